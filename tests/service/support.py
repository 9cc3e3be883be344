"""Helpers for the service tests (fixtures live in conftest.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
# Thursday 2026-11-26, 10:00 in Luohe: a working day
START = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)


class Clock:
    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.now = moment




PROBLEM = "application/problem+json"


def refused(r, status: int, field: str) -> dict:
    """A problem+json answer of ``status`` whose detail names ``field`` first (or among others)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["detail"].startswith(f"{field}:") or f"; {field}:" in body["detail"], body["detail"]
    return body
