"""Configuration from the environment (DESIGN.md, "Interfaces"), with defaults that run on one
machine with nothing installed: SQLite in a local file, the in-process scheduler, Luohe."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from routing_rules import DEFAULT_RULES
from routing_rules.language import Duration

from .directory import DEFAULT_DIRECTORY


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/closedloop.sqlite3"
    redis_url: str | None = None
    rules: Path = DEFAULT_RULES
    directory: Path = DEFAULT_DIRECTORY
    holidays_file: Path | None = None
    timezone: str = "Asia/Shanghai"
    admin_token: str | None = None
    sweep_interval: float = 30.0
    # when a working-day deadline falls due: the end of the office day, local time
    workday_end: str = "18:00"
    # how long a resolved case waits for the enterprise before it closes as confirmed
    confirm_window: Duration = field(default_factory=lambda: Duration(5, "working_days"))
    max_body_bytes: int = 1_000_000
    # how often a supervised (督办) tier-5 case is reminded
    supervision_interval: Duration = field(default_factory=lambda: Duration(3, "working_days"))
    sweep_batch: int = 200
    tracking_prefix: str | None = None  # default: the directory's city.tracking_prefix

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            database_url=_env("CLOSEDLOOP_DATABASE_URL", cls.database_url),
            redis_url=_env("CLOSEDLOOP_REDIS_URL"),
            rules=Path(_env("CLOSEDLOOP_RULES", str(DEFAULT_RULES))),
            directory=Path(_env("CLOSEDLOOP_DIRECTORY", str(DEFAULT_DIRECTORY))),
            holidays_file=Path(p) if (p := _env("CLOSEDLOOP_HOLIDAYS")) else None,
            timezone=_env("CLOSEDLOOP_TIMEZONE", cls.timezone),
            admin_token=_env("CLOSEDLOOP_ADMIN_TOKEN"),
            sweep_interval=float(_env("CLOSEDLOOP_SWEEP_INTERVAL", "30")),
            workday_end=_env("CLOSEDLOOP_WORKDAY_END", cls.workday_end),
            confirm_window=Duration.parse(_env("CLOSEDLOOP_CONFIRM_WINDOW", "5 working_days")),
            max_body_bytes=int(_env("CLOSEDLOOP_MAX_BODY_BYTES", "1000000")),
            supervision_interval=Duration.parse(_env("CLOSEDLOOP_SUPERVISION_INTERVAL", "3 working_days")),
            sweep_batch=int(_env("CLOSEDLOOP_SWEEP_BATCH", "200")),
            tracking_prefix=_env("CLOSEDLOOP_TRACKING_PREFIX"),
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
