"""Prometheus metrics of the ladder: how late escalations run, and what is overdue per tier."""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

LATENESS = Histogram(
    "closedloop_escalation_lateness_seconds",
    "Time from a case's deadline to the sweep acting on it (escalation or supervision).",
    ["kind"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400),
)
ESCALATIONS = Counter("closedloop_escalations_total", "Escalations and supervisions by the sweep.", ["kind"])


def observe_escalation(kind: str, late_seconds: float) -> None:
    LATENESS.labels(kind).observe(max(0.0, late_seconds))
    ESCALATIONS.labels(kind).inc()


class OverdueCollector(Collector):
    """Overdue cases per tier, read from the database at scrape time (so any process can serve it)."""

    def __init__(self, rt):
        self.rt = rt

    def collect(self):
        from ..cases.models import Case
        from ..cases.machine import RUNNING

        gauge = GaugeMetricFamily("closedloop_overdue_cases", "Running cases past their deadline, by tier.",
                                  labels=["tier"])
        now = self.rt.clock()
        with self.rt.session() as session:
            rows = dict(session.execute(
                select(Case.tier, func.count()).where(Case.status.in_(RUNNING), Case.due_at < now)
                .group_by(Case.tier)).all())
        for tier in range(1, 6):
            gauge.add_metric([str(tier)], rows.get(tier, 0))
        yield gauge
