"""How the API answers what goes wrong: application/problem+json (RFC 9457) in one place.

Every wrong request gets a 4xx whose ``detail`` names the field and the fix; a database that is
down, read-only or busy gets a 503 with ``Retry-After``; only a bug is a 500. The request guard
refuses, before any endpoint runs, what no endpoint may take: bodies over the size limit and NUL
characters (PostgreSQL's text cannot hold them).
"""

from __future__ import annotations

import json
import re
import logging
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import Problem, TooLarge

log = logging.getLogger("closedloop")
PROBLEM = "application/problem+json"
_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           406: "Not acceptable", 409: "Conflict", 412: "Precondition failed", 413: "Request too large",
           415: "Unsupported media type", 422: "Invalid request", 429: "Too many requests"}


def problem(status: int, title: str, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": title, "status": status, "detail": detail, **extra},
                        status_code=status, media_type=PROBLEM, headers=headers)


# ---------------------------------------------------------------------------- validation
def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


_FIXES = {
    "missing": "it is required",
    "extra_forbidden": "this field is not accepted; remove it",
    "json_invalid": "the body is not valid JSON",
    "model_attributes_type": "send a JSON object",
    "dict_type": "send a JSON object",
    "bool_type": "send true or false",
    "int_type": "send a whole number",
}


def _message(err: dict) -> str:
    if err.get("type") in _FIXES:
        return _FIXES[err["type"]]
    if err.get("type") == "string_too_short" and (err.get("ctx") or {}).get("min_length") == 1:
        return "must not be empty or blank; write the text"
    return str(err.get("msg", "invalid")).removeprefix("Value error, ")


def validation_detail(errors: list[dict]) -> tuple[str, list[dict]]:
    # a JSON syntax error's location is a character position, not a field
    items = [{"field": "body" if err.get("type") == "json_invalid" else _field(tuple(err.get("loc", ()))),
              "message": _message(err)} for err in errors]
    return "; ".join(f"{i['field']}: {i['message']}" for i in items), items


# ---------------------------------------------------------------------------- the database
# SQLSTATEs that say "not now" rather than "never": the connection, the server shutting down or
# starting, a read-only server (a replica after fail-over, default_transaction_read_only),
# serialization and deadlock failures, resources exhausted, a statement or lock timeout.
_TRANSIENT_CLASSES = ("08", "53", "57P")
_TRANSIENT = {"25006", "40001", "40P01", "55P03", "57014"}


def unavailable(exc: DBAPIError) -> str | None:
    """Why the database cannot serve now, if that is what ``exc`` says; None for a bug."""
    state = getattr(exc.orig, "sqlstate", None) or ""
    if state == "25006":
        return "the database is read-only (a replica, or writes switched off)"
    if state in ("40001", "40P01"):
        return "the change collided with another one"
    if exc.connection_invalidated or state.startswith(_TRANSIENT_CLASSES) or state in _TRANSIENT:
        return "the database is unreachable or restarting"
    name = type(exc).__name__
    if name in ("OperationalError", "InterfaceError"):  # no SQLSTATE: the connection itself failed
        return "the database is unreachable or busy"
    return None


def install(app: FastAPI) -> None:
    """The exception handlers: each kind of failure answered once, here."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem(exc.status, exc.title, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        detail, items = validation_detail(exc.errors())
        return problem(422, "Invalid request", detail, errors=items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 400 and detail in ("There was an error parsing the body", "Invalid multipart data."):
            # Starlette's word for a body that is not text; to the caller it is one more bad body
            return problem(422, "Invalid request", "body: cannot be read (not JSON text in UTF-8, or broken "
                           "multipart form data); send what the endpoint takes",
                           errors=[{"field": "body", "message": "cannot be read"}])
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"path: no such endpoint {request.url.path}; see /docs"
        elif exc.status_code == 405:
            detail = f"method: {request.method} is not allowed on {request.url.path}; see /docs"
        return problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), detail, headers=exc.headers)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError):
        return problem(409, "Conflict", "case: it changed while this request was acting on it; read it again "
                       "and retry. Nothing was changed.")

    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: PoolTimeout):
        return problem(503, "Busy", "server: every database connection is in use; retry in a moment. "
                       "Nothing was changed.", headers={"Retry-After": "1"})

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError):
        why = unavailable(exc)
        if why is None:
            return await _crash(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                    str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__)
        return problem(503, "Service unavailable", f"database: {why}; retry in a few seconds. Nothing was changed "
                       "(a submission with an Idempotency-Key can be retried safely).", headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):  # pragma: no cover - a bug, never a design
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(500, "Internal error", "the server failed; the error is logged. Nothing was changed.")


# ---------------------------------------------------------------------------- the guard
def _nul_at(value, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in parsed JSON that holds a NUL."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if "\x00" in str(k):
                return here
            if (found := _nul_at(v, here)) is not None:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            if (found := _nul_at(v, f"{path}.{i}" if path else str(i))) is not None:
                return found
    return None


def _nul_problem(field: str) -> JSONResponse:
    return problem(422, "Invalid request", f"{field}: contains a NUL character (\\u0000), which no text here may "
                   "hold; remove it", errors=[{"field": field, "message": "contains a NUL character"}])


class RequestGuard:
    """Refuse, before any endpoint runs: a key this process refused for its rate a moment ago
    (429, no database or Redis round trip), bodies over ``max_bytes`` (413, whether or not
    Content-Length was sent), and NUL characters in the path, the query or the JSON body (422
    naming the field)."""

    # what takes a file (the new case form, a case's files, on the pages and the API): their bodies
    # may be larger
    UPLOADS = re.compile(r"^(/app/cases/(new|\d+/files)|/v1/cases/[^/]+/files)$")

    def __init__(self, app, max_bytes: int, limiter, max_upload_bytes: int | None = None):
        self.app, self.max_bytes, self.limiter = app, max_bytes, limiter  # limiter: () -> Limiter
        self.max_upload_bytes = max_upload_bytes or max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        authorization = dict(scope.get("headers") or ()).get(b"authorization")
        if authorization is not None:
            over = self.limiter().refusing(authorization.decode("latin-1"))
            if over is not None:
                return await problem(429, over.title, over.detail, headers=over.headers,
                                     **over.extra)(scope, receive, send)
        refused = self._refuse_target(scope)
        if refused is not None:
            return await refused(scope, receive, send)
        most = self.max_upload_bytes + 65536 if self.UPLOADS.match(scope.get("path", "")) else self.max_bytes
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > most):
            return await self._too_large()(scope, receive, send)
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)
            total += len(message.get("body", b""))
            if total > most:
                return await self._too_large()(scope, receive, send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if b"\\u0000" in body:  # cheap test first; parse only a body that may hold one
            try:
                field = _nul_at(json.loads(body))
            except ValueError:
                field = None  # not JSON: the endpoint answers that
            if field is not None:
                return await _nul_problem(field)(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    def _too_large(self) -> JSONResponse:
        return problem(413, TooLarge.title, f"body: larger than {self.max_bytes} bytes; send less "
                       "(attachments are sent as metadata, not content)")

    @staticmethod
    def _refuse_target(scope) -> JSONResponse | None:
        if "\x00" in scope.get("path", ""):
            return _nul_problem("path")
        query = scope.get("query_string") or b""
        if b"%00" in query or b"\x00" in query:
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    return _nul_problem(name.replace("\x00", "") or "query")
        return None
