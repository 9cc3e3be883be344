"""Rate limits (限流): a token bucket per API key, by the key's role, and a daily cap of new
cases per enterprise — so that no key can flood the service or crowd out the others.

The buckets live in Redis when the service has one (every API process then shares them) and in
the process otherwise (the embedded default runs one process). If Redis stops answering, the
process falls back to its own buckets rather than refusing everyone: a limit protects the
service, it must not become the outage. Configured by ``CLOSEDLOOP_RATE_LIMIT`` and
``CLOSEDLOOP_DAILY_CASE_CAP`` (docs/api.md, "Limits").
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from ..errors import TooManyRequests
from .principal import Principal

log = logging.getLogger("closedloop.limits")

DEFAULT_RATES = "enterprise=5/s:30,officer=20/s:100,department=20/s:100,secretary=10/s:60,admin=50/s:300,leader=10/s:60"
_RATE = re.compile(r"^\s*([a-z*]+)\s*=\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h)\s*(?::\s*(\d+))?\s*$")
_PER = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int


def parse_rates(text: str) -> dict[str, Rate]:
    """``enterprise=5/s:30,admin=50/s:300`` — per role (``*`` for any other), requests per second,
    minute or hour, and the burst a quiet key may spend at once (default: one second's worth,
    at least 1). ``off`` (or empty) sets no limit."""
    if text.strip().lower() in ("", "off", "none"):
        return {}
    rates = {}
    for part in text.split(","):
        m = _RATE.match(part)
        if not m:
            raise ValueError(f"CLOSEDLOOP_RATE_LIMIT: cannot read '{part.strip()}'; write role=N/s:BURST, "
                             "e.g. enterprise=5/s:30 (or 'off')")
        per_second = float(m.group(2)) / _PER[m.group(3)]
        if per_second <= 0:
            raise ValueError(f"CLOSEDLOOP_RATE_LIMIT: '{part.strip()}' allows nothing; give a rate above 0")
        rates[m.group(1)] = Rate(per_second, int(m.group(4) or max(1, round(per_second))))
    return rates


class Buckets(Protocol):
    def take(self, key: str, rate: Rate) -> float:
        """Take a token: 0 when granted, else the seconds until one is there."""

    def count(self, key: str, ttl: int) -> int:
        """Add one to a counter that lives ``ttl`` seconds; the new value."""


class LocalBuckets:
    def __init__(self):
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._counters: dict[str, tuple[int, float]] = {}   # key -> (count, expires)

    def take(self, key: str, rate: Rate) -> float:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key, (rate.burst, now))
            tokens = min(rate.burst, tokens + (now - at) * rate.per_second)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate.per_second
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            if len(self._buckets) > 10_000:  # forget keys whose bucket has refilled
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 3600}
        return wait

    def count(self, key: str, ttl: int) -> int:
        now = time.monotonic()
        with self._lock:
            value, expires = self._counters.get(key, (0, now + ttl))
            if expires <= now:
                value, expires = 0, now + ttl
            self._counters[key] = (value + 1, expires)
            if len(self._counters) > 10_000:
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
            return value + 1


# the bucket in one round trip, on Redis's clock (API hosts' clocks may differ)
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local s = redis.call('HMGET', KEYS[1], 't', 'v')
local last, tokens = tonumber(s[1]), tonumber(s[2])
if tokens == nil then tokens, last = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(now), 'v', tostring(tokens))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RedisBuckets:
    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self._redis.register_script(_TAKE)
        self._count = self._redis.register_script(_COUNT)
        self._fallback = LocalBuckets()
        self._down_since: float | None = None

    def _call(self, shared, local):
        import redis

        try:
            value = shared()
            if self._down_since is not None:
                log.warning("rate limits: Redis answers again; buckets shared across processes")
                self._down_since = None
            return value
        except redis.RedisError as exc:
            if self._down_since is None:
                log.warning("rate limits: Redis unreachable (%s); this process keeps its own buckets",
                            type(exc).__name__)
                self._down_since = time.monotonic()
            return local()

    def take(self, key: str, rate: Rate) -> float:
        return self._call(lambda: float(self._take(keys=[f"closedloop:rl:{key}"], args=[rate.per_second, rate.burst])),
                          lambda: self._fallback.take(key, rate))

    def count(self, key: str, ttl: int) -> int:
        return self._call(lambda: int(self._count(keys=[f"closedloop:cap:{key}"], args=[ttl])),
                          lambda: self._fallback.count(key, ttl))


class Limiter:
    def __init__(self, rates: dict[str, Rate], daily_case_cap: int, buckets: Buckets):
        self.rates, self.daily_case_cap, self.buckets = rates, daily_case_cap, buckets
        # keys this process refused, until when: their next requests are refused at the door,
        # without a database or Redis round trip, so that a flood costs the service little
        self._refused: dict[str, tuple[float, Rate]] = {}

    @classmethod
    def build(cls, rates: str, daily_case_cap: int, redis_url: str | None) -> "Limiter":
        return cls(parse_rates(rates), daily_case_cap, RedisBuckets(redis_url) if redis_url else LocalBuckets())

    def admit(self, p: Principal, authorization: str | None = None) -> None:
        """Let the request through, or answer 429 with when to come back."""
        rate = self.rates.get(p.role) or self.rates.get("*")
        if rate is None:
            return
        wait = self.buckets.take(p.key_id, rate)
        if wait > 0:
            if authorization:
                now = time.monotonic()
                if len(self._refused) > 10_000:
                    self._refused = {k: v for k, v in self._refused.items() if v[0] > now}
                self._refused[authorization] = (now + wait, rate)
            raise self._too_many(rate, wait)

    def refusing(self, authorization: str | None) -> TooManyRequests | None:
        """The answer for a key this process refused a moment ago and that has not waited."""
        refused = self._refused.get(authorization) if authorization else None
        if refused is None:
            return None
        wait = refused[0] - time.monotonic()
        if wait <= 0:
            self._refused.pop(authorization, None)
            return None
        return self._too_many(refused[1], wait)

    @staticmethod
    def _too_many(rate: Rate, wait: float) -> TooManyRequests:
        return TooManyRequests(
            f"Authorization: this key may make {rate.per_second:g} requests a second (bursts of {rate.burst}); "
            f"retry after {max(1, round(wait + 0.4))} s", retry_after=wait, limit=f"{rate.per_second:g}/s, burst {rate.burst}")

    def count_new_case(self, enterprise_id: int, now: datetime, tz: ZoneInfo) -> None:
        """Count a new case against its enterprise's cap for the local day, or refuse it."""
        if self.daily_case_cap <= 0:
            return
        local = now.astimezone(tz)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tz)
        seconds_left = (midnight - local).total_seconds()
        if self.buckets.count(f"{enterprise_id}:{local.date().isoformat()}", int(seconds_left) + 3600) \
                > self.daily_case_cap:
            raise TooManyRequests(
                f"enterprise_id: enterprise {enterprise_id} has filed {self.daily_case_cap} new cases today, the "
                "most one enterprise may file in a day; add to an existing case (supplement), or file tomorrow",
                retry_after=seconds_left, daily_case_cap=self.daily_case_cap)
