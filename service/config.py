"""Configuration from the environment (DESIGN.md, "Interfaces"), with defaults that run on one
machine with nothing installed: SQLite in a local file, the in-process scheduler, Luohe."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from routing_rules import DEFAULT_RULES
from routing_rules.language import Duration

from .auth.limits import DEFAULT_RATES
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
    # the office's hours on a working day (办公时间): what working-hour deadlines count
    office_hours: str = "09:00-12:00,14:00-18:00"
    # how long a resolved case waits for the enterprise before it closes as confirmed
    confirm_window: Duration = field(default_factory=lambda: Duration(5, "working_days"))
    max_body_bytes: int = 1_000_000
    # attached files: where the local disk store keeps them, and the most one may weigh
    attachments_dir: str = "var/attachments"
    max_upload_bytes: int = 10 * 2**20
    # how far past its deadline an extension may reach (calendar days)
    max_extension_days: int = 90
    # how often a supervised (督办) tier-5 case is reminded
    supervision_interval: Duration = field(default_factory=lambda: Duration(3, "working_days"))
    sweep_batch: int = 200
    # the share of satisfied confirmations that get a call-back (回访) too; closed by default: all
    callback_sample: float = 0.2
    tracking_prefix: str | None = None  # default: the directory's city.tracking_prefix
    # requests per key by role (auth/limits.py), and new cases per enterprise per local day
    rate_limit: str = DEFAULT_RATES
    daily_case_cap: int = 30
    # threads per API process for the endpoints that block (a sync endpoint, a database round
    # trip): with the GIL more of them only take turns, slower (docs/benchmarks.md, Intake)
    request_threads: int = 8
    notify: "NotifySettings" = field(default_factory=lambda: NotifySettings())

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
            office_hours=_env("CLOSEDLOOP_OFFICE_HOURS", cls.office_hours),
            confirm_window=Duration.parse(_env("CLOSEDLOOP_CONFIRM_WINDOW", "5 working_days")),
            max_body_bytes=int(_env("CLOSEDLOOP_MAX_BODY_BYTES", "1000000")),
            attachments_dir=_env("CLOSEDLOOP_ATTACHMENTS_DIR", cls.attachments_dir),
            max_upload_bytes=int(_env("CLOSEDLOOP_MAX_UPLOAD_BYTES", str(cls.max_upload_bytes))),
            max_extension_days=int(_env("CLOSEDLOOP_MAX_EXTENSION_DAYS", "90")),
            supervision_interval=Duration.parse(_env("CLOSEDLOOP_SUPERVISION_INTERVAL", "3 working_days")),
            sweep_batch=int(_env("CLOSEDLOOP_SWEEP_BATCH", "200")),
            callback_sample=float(_env("CLOSEDLOOP_CALLBACK_SAMPLE", "0.2")),
            tracking_prefix=_env("CLOSEDLOOP_TRACKING_PREFIX"),
            rate_limit=_env("CLOSEDLOOP_RATE_LIMIT", DEFAULT_RATES),
            daily_case_cap=int(_env("CLOSEDLOOP_DAILY_CASE_CAP", "30")),
            request_threads=int(_env("CLOSEDLOOP_REQUEST_THREADS", "8")),
            notify=NotifySettings.from_env(),
        )

    def __post_init__(self) -> None:
        if self.request_threads < 1:
            raise ValueError(f"CLOSEDLOOP_REQUEST_THREADS: {self.request_threads} threads would serve nothing; "
                             "give 1 or more (8 by default)")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class NotifySettings:
    """How notifications are delivered (docs/notifications.md)."""

    public_url: str = "http://127.0.0.1:8000"  # the links in messages point here
    timeout: float = 5.0                        # seconds per request (connect, read, write each)
    max_attempts: int = 8                       # then dead-lettered
    backoff: float = 2.0                        # first retry after about this many seconds, doubling
    backoff_cap: float = 3600.0
    lease: float = 60.0                         # a claimed message is retried after this if its worker died
    interval: float = 5.0                       # catch-up sweep
    batch: int = 50
    circuit_threshold: int = 5                  # consecutive failures that open a channel's circuit
    circuit_rest: float = 30.0                  # seconds an open circuit rests before one trial
    smtp_url: str | None = None                 # smtp://user:password@host:port (smtps:// or ?starttls=1)
    smtp_from: str = "closedloop@localhost"

    @classmethod
    def from_env(cls) -> "NotifySettings":
        def num(name: str, default: float) -> float:
            return float(_env(f"CLOSEDLOOP_NOTIFY_{name}", str(default)))

        return cls(
            public_url=_env("CLOSEDLOOP_PUBLIC_URL", cls.public_url).rstrip("/"),
            timeout=num("TIMEOUT", cls.timeout), max_attempts=int(num("MAX_ATTEMPTS", cls.max_attempts)),
            backoff=num("BACKOFF", cls.backoff), backoff_cap=num("BACKOFF_CAP", cls.backoff_cap),
            lease=num("LEASE", cls.lease), interval=num("INTERVAL", cls.interval), batch=int(num("BATCH", cls.batch)),
            circuit_threshold=int(num("CIRCUIT_THRESHOLD", cls.circuit_threshold)),
            circuit_rest=num("CIRCUIT_REST", cls.circuit_rest),
            smtp_url=_env("CLOSEDLOOP_SMTP_URL"), smtp_from=_env("CLOSEDLOOP_SMTP_FROM", cls.smtp_from),
        )
