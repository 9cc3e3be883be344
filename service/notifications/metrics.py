"""Prometheus metrics of delivery: outcomes per try, and the time from the change to delivery."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ATTEMPTS = Counter("closedloop_notification_attempts_total", "Delivery tries by outcome.", ["outcome"])
LATENCY = Histogram(
    "closedloop_notification_latency_seconds",
    "Time from the change that caused a notification to its delivery.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)


def observe_delivery(outcome: str, latency: float | None = None) -> None:
    ATTEMPTS.labels(outcome).inc()
    if latency is not None:
        LATENCY.observe(max(0.0, latency))
