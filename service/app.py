"""The FastAPI application: routers of each domain, problem+json errors, size limits, health."""

from __future__ import annotations

import asyncio
import gc
import time
import logging
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from sqlalchemy import text

from . import openapi, problems
from .auth.keys import ensure_bootstrap_admin
from .escalation.metrics import OverdueCollector
from .reports.metrics import ReportCollector
from .paging import known_query
from .problems import RequestGuard, problem
from .runtime import Runtime

log = logging.getLogger("closedloop")


async def _sweep_forever(rt: Runtime) -> None:
    from .escalation.sweep import next_wake, sweep
    from .reports.rollups import roll_up

    rolled_at = None  # the reports' monthly rollups (PostgreSQL), hourly as the beat does them
    while True:
        try:
            now = rt.clock()
            report = await asyncio.to_thread(sweep, rt, now)
            if any(report.counts().values()):
                log.info("sweep: %s", report.counts())
            if rt.engine.dialect.name == "postgresql" and (rolled_at is None or time.monotonic() - rolled_at > 3600):
                rolled_at = time.monotonic()
                await asyncio.to_thread(roll_up, rt, rt.clock())
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed tick is logged; the next one retries
            log.exception("sweep failed")
        await asyncio.sleep(await _until_next_tick(rt, next_wake, now))


async def _until_next_tick(rt: Runtime, next_wake, now) -> float:
    """Seconds until the next tick: the interval, or less if something falls due sooner (a
    deadline escalates as it passes, not up to an interval later). ``now`` is the last tick's
    moment: what fell due while it ran is ahead of it, and is swept at once."""
    interval = rt.settings.sweep_interval
    try:
        moment = await asyncio.to_thread(next_wake, rt, now)
    except Exception:  # noqa: BLE001 - the database away: the interval, as before
        log.exception("sweep: next moment unknown")
        return interval
    if moment is None:
        return interval
    return max(0.0, (moment - rt.clock()).total_seconds())


# ---------------------------------------------------------------------------- the app
def create_app(rt: Runtime | None = None, scheduler: bool = False) -> FastAPI:
    """The application. ``scheduler``: without Redis (and so without Celery), run the deadline
    sweep every ``CLOSEDLOOP_SWEEP_INTERVAL`` seconds and deliver notifications in this process —
    the embedded default (``closedloop serve`` turns it on)."""
    rt = rt or Runtime.build()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if rt.settings.admin_token:
            with rt.session() as session:
                ensure_bootstrap_admin(session, rt.settings.admin_token)
                session.commit()
        task = notifier = None
        # the event loop's thread pool, which runs sync endpoints: see Settings.request_threads
        anyio.to_thread.current_default_thread_limiter().total_tokens = rt.settings.request_threads
        if scheduler:  # the served process (not a test's app)
            # What the process holds once started (modules, the directory, the compiled rules) is
            # never garbage: kept out of the collector's full passes, which otherwise stop a
            # request for ~0.1 s every so often (bench/listing.py: the p99 of a list fell from
            # ~140 ms to its p50's neighbourhood)
            gc.collect()
            gc.freeze()
        if scheduler and not rt.settings.redis_url:
            # the embedded default: no Celery, so this process sweeps and delivers itself
            from .notifications.dispatch import InProcessNotifier

            notifier = rt.notifier = InProcessNotifier(rt).start()
            if rt.settings.sweep_interval > 0:
                task = asyncio.create_task(_sweep_forever(rt))
        yield
        if task is not None:
            task.cancel()
        if notifier is not None:
            rt.notifier = None
            notifier.stop()

    # the docs page's Swagger UI and ReDoc from the package, not a CDN: government intranets
    # often have no internet (fastapi-offline ships the files)
    app = FastAPIOffline(
        title="closedloop",
        version="0.1.0",
        description="Case routing and five-tier escalation for enterprise demands (企业诉求五级化解闭环). "
                    "Authenticate with `Authorization: Bearer <api key>`. Errors are application/problem+json.",
        lifespan=lifespan,
        dependencies=[Depends(known_query)],
    )
    app.state.rt = rt
    app.add_middleware(RequestGuard, max_bytes=rt.settings.max_body_bytes, limiter=lambda: rt.limiter,
                       max_upload_bytes=rt.settings.max_upload_bytes)

    problems.install(app)
    openapi.install(app)

    registry = CollectorRegistry()
    registry.register(OverdueCollector(rt))
    registry.register(ReportCollector(rt))

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics():
        # this process's counters and histograms, and the overdue gauge read from the database
        body = generate_latest(REGISTRY) + generate_latest(registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["operations"])
    def healthz():
        """Alive (存活): the process answers; says nothing of the database"""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz():
        """Ready when the database takes writes (not down, not read-only) and the broker answers."""
        checks = {"database": _database_state(rt)}
        if rt.settings.redis_url:
            try:
                import redis

                redis.Redis.from_url(rt.settings.redis_url, socket_timeout=2).ping()
                checks["broker"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["broker"] = f"unreachable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        if not ready:
            return problem(503, "Not ready", "; ".join(f"{k}: {v}" for k, v in checks.items()),
                           headers={"Retry-After": "5"}, checks=checks)
        return {"status": "ready", "checks": checks}

    from .accounts.api import router as accounts_router
    from .attachments.api import router as files_router
    from .audit.api import router as audit_router
    from .auth.api import router as keys_router
    from .cases.api import router as cases_router
    from .directory.api import router as directory_router
    from .enterprises.api import router as enterprises_router
    from .meetings.api import router as meetings_router
    from .notifications.api import router as notifications_router
    from .reports.api import router as reports_router
    from .routing.api import router as routing_router
    from .similarity.api import router as similar_router
    from .callbacks.api import router as callbacks_router

    for router in (keys_router, directory_router, enterprises_router, cases_router, routing_router,
                   notifications_router, meetings_router, reports_router, audit_router, accounts_router,
                   files_router, similar_router, callbacks_router):
        app.include_router(router)
    from .web.pages import install as install_pages

    install_pages(app)
    return app


def _database_state(rt: Runtime) -> str:
    """"ok", or why the database would refuse a write now."""
    try:
        with rt.engine.connect() as conn:
            if rt.engine.dialect.name == "postgresql":
                # on for a hot standby and under default_transaction_read_only alike
                if conn.execute(text("SELECT current_setting('transaction_read_only')")).scalar() == "on":
                    return "read-only: writes are refused (a replica, or default_transaction_read_only)"
            else:
                conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
        return f"unreachable: {type(exc).__name__}"
