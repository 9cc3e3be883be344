"""Prometheus gauges of the reports: overdue cases per department, and this month's resolution,
on-time and satisfaction rates for the city — read from the database at scrape time (any API
process can serve them). Labels come from the directory, so their sets stay bounded."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class ReportCollector(Collector):
    def __init__(self, rt):
        self.rt = rt

    def collect(self):
        from .measures import compute, parse_period

        rt = self.rt
        today = rt.calendar.local_date(rt.clock())
        with rt.session() as session:
            month = f"{today.year}-{today.month:02d}"
            report = compute(session, rt, parse_period(month, None, None, today), "department", overdue_limit=0)
        known = {d.key for d in rt.directory.departments}
        overdue = GaugeMetricFamily("closedloop_overdue_cases_by_department",
                                    "Running cases past their deadline, by lead department ('none': awaiting triage).",
                                    labels=["department"])
        for row in report.rows:
            if row.key in known or row.key is None:
                overdue.add_metric([row.key or "none"], row.figures["overdue_now"] or 0)
        yield overdue
        rates = GaugeMetricFamily("closedloop_month_rate", "This month's rates for the whole city (docs/reports.md); "
                                  "absent while a rate has no denominator.", labels=["rate"])
        for name in ("resolution_rate", "on_time_rate", "satisfaction_rate", "response_rate"):
            if report.city.rates[name] is not None:
                rates.add_metric([name], report.city.rates[name])
        yield rates
