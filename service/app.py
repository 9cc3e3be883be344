"""The FastAPI application: routers of each domain, problem+json errors, size limits, health."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .auth.keys import authenticate, ensure_bootstrap_admin
from .auth.principal import Principal
from .errors import Problem, TooLarge
from .escalation.metrics import OverdueCollector
from .runtime import Runtime

log = logging.getLogger("closedloop")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": title, "status": status, "detail": detail, **extra},
                        status_code=status, media_type=PROBLEM)


# ---------------------------------------------------------------------------- dependencies
# ``runtime`` and ``db`` are async so that FastAPI does not hop to a worker thread for each of
# them on every request (a sync dependency runs in the thread pool): opening a session does no
# I/O, and closing one after its commit only returns the connection to the pool.
async def runtime(request: Request) -> Runtime:
    return request.app.state.rt


async def db(rt: Runtime = Depends(runtime)) -> AsyncIterator[Session]:
    """One session per request; handlers commit, anything else rolls back."""
    session = rt.session()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)  # a rollback: a round trip, off the event loop
        else:
            session.close()


def principal(request: Request, session: Session = Depends(db)) -> Principal:
    return authenticate(session, request.headers.get("authorization"))


# ---------------------------------------------------------------------------- errors
def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


_FIXES = {
    "missing": "it is required",
    "extra_forbidden": "this field is not accepted; remove it",
    "json_invalid": "the body is not valid JSON",
    "model_attributes_type": "send a JSON object",
    "dict_type": "send a JSON object",
}


def _validation_detail(errors: list[dict]) -> tuple[str, list[dict]]:
    items = []
    for err in errors:
        field = _field(tuple(err.get("loc", ())))
        message = _FIXES.get(err.get("type"), err.get("msg", "invalid"))
        items.append({"field": field, "message": message})
    return "; ".join(f"{i['field']}: {i['message']}" for i in items), items


class BodyLimit:
    """Refuse bodies over the limit with 413, whether or not the client sent Content-Length."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or ()).get(b"content-length")
        too_large = problem(413, TooLarge.title, f"body: larger than {self.max_bytes} bytes; send less "
                            "(attachments are sent as metadata, not content)")
        if length is not None:
            if not length.isdigit() or int(length) > self.max_bytes:
                return await too_large(scope, receive, send)
            return await self.app(scope, receive, send)
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)
            total += len(message.get("body", b""))
            if total > self.max_bytes:
                return await too_large(scope, receive, send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


async def _sweep_forever(rt: Runtime) -> None:
    from .escalation.sweep import sweep

    while True:
        try:
            report = await asyncio.to_thread(sweep, rt)
            if any(report.counts().values()):
                log.info("sweep: %s", report.counts())
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed tick is logged; the next one retries
            log.exception("sweep failed")
        await asyncio.sleep(rt.settings.sweep_interval)


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

    app = FastAPI(
        title="closedloop",
        version="0.1.0",
        description="Case routing and five-tier escalation for enterprise demands (企业诉求五级化解闭环). "
                    "Authenticate with `Authorization: Bearer <api key>`. Errors are application/problem+json.",
        lifespan=lifespan,
    )
    app.state.rt = rt
    app.add_middleware(BodyLimit, max_bytes=rt.settings.max_body_bytes)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        detail, items = _validation_detail(exc.errors())
        return problem(422, "Invalid request", detail, errors=items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"path: no such endpoint {request.url.path}; see /docs"
        elif exc.status_code == 405:
            detail = f"method: {request.method} is not allowed on {request.url.path}; see /docs"
        return problem(exc.status_code, "Error", detail)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError):
        return problem(409, "Conflict", "case: it changed while this request was acting on it; read it again "
                       "and retry. Nothing was changed.")

    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: PoolTimeout):
        response = problem(503, "Busy", "server: every database connection is in use; retry in a moment. "
                           "Nothing was changed.")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):  # pragma: no cover - a bug, never a design
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "the server failed; the error is logged. Nothing was changed.")

    registry = CollectorRegistry()
    registry.register(OverdueCollector(rt))

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics():
        # this process's counters and histograms, and the overdue gauge read from the database
        body = generate_latest(REGISTRY) + generate_latest(registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["operations"])
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz():
        checks = {}
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if rt.settings.redis_url:
            try:
                import redis

                redis.Redis.from_url(rt.settings.redis_url, socket_timeout=2).ping()
                checks["broker"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["broker"] = f"unreachable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        if not ready:
            return problem(503, "Not ready", "; ".join(f"{k}: {v}" for k, v in checks.items()), checks=checks)
        return {"status": "ready", "checks": checks}

    from .auth.api import router as keys_router
    from .cases.api import router as cases_router
    from .directory.api import router as directory_router
    from .enterprises.api import router as enterprises_router
    from .meetings.api import router as meetings_router
    from .notifications.api import router as notifications_router
    from .routing.api import router as routing_router

    for router in (keys_router, directory_router, enterprises_router, cases_router, routing_router,
                   notifications_router, meetings_router):
        app.include_router(router)
    return app
