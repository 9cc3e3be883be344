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
        from .measures import at_a_glance, parse_period

        rt = self.rt
        now = rt.clock()
        today = rt.calendar.local_date(now)
        with rt.session() as session:
            month = parse_period(f"{today.year}-{today.month:02d}", None, None, today)
            rates_now, overdue_now = at_a_glance(session, rt, month, now)
        overdue = GaugeMetricFamily("closedloop_overdue_cases_by_department",
                                    "Running cases past their deadline, by lead department ('none': awaiting triage).",
                                    labels=["department"])
        for department in rt.directory.departments:
            overdue.add_metric([department.key], overdue_now.get(department.key, 0))
        overdue.add_metric(["none"], overdue_now.get(None, 0))
        yield overdue
        rates = GaugeMetricFamily("closedloop_month_rate", "This month's rates for the whole city (docs/reports.md); "
                                  "absent while a rate has no denominator.", labels=["rate"])
        for name in ("resolution_rate", "on_time_rate", "satisfaction_rate", "response_rate"):
            if rates_now[name] is not None:
                rates.add_metric([name], rates_now[name])
        yield rates
