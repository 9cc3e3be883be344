"""The OpenAPI document: what FastAPI derives, plus the problem+json answers each operation can
give, so that generated clients and the docs page show every status a caller must handle."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; `detail` names the field and the fix",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}},
        "retry_after": {"type": "integer", "description": "429: seconds to wait"},
    },
    "additionalProperties": True,
}

# what each status means to the caller of this API
MEANINGS = {
    401: "no key, or a key that is unknown or revoked",
    403: "the key's role may not do this",
    404: "no such object that the key may see",
    409: "the object's state does not allow this now (the detail says which state)",
    412: "If-Match names a version the case is no longer at",
    413: "the body is larger than the limit",
    422: "a field is missing, malformed or out of bounds (the detail names it)",
    429: "the key's rate limit or its enterprise's daily cap is reached; see Retry-After",
    503: "the database is unreachable, read-only or busy; see Retry-After",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}


def statuses(path: str, method: str, operation: dict) -> list[int]:
    """The problem answers an operation can give, read off its shape: every /v1 operation checks a
    key (401, 403, 429), may meet a database outage (503) and validates its input (422); one with
    an id in its path or body may find nothing (404); one that changes something may find a state
    that forbids it (409); one with a body may get too much of it (413); a case action honours If-Match (412)."""
    codes = [503]
    if operation.get("parameters") or "requestBody" in operation:
        codes.append(422)
    if path.startswith("/v1/"):
        codes += [401, 403, 429]
    if method in ("post", "patch", "put", "delete") and path.startswith("/v1/"):
        codes += [404, 409]  # 404: an id in the body (enterprise_id, case_id) may name nothing
    if "{" in path:
        codes.append(404)
    if "requestBody" in operation:
        codes.append(413)
    if path.startswith("/v1/cases/{case_id}/") and not path.startswith("/v1/cases/{case_id}/files"):
        codes.append(412)  # a case's files are added, never changed: no version to match
    return sorted(set(codes))


def _summarise(operation: dict) -> None:
    """The summary a reader scans: the first sentence of the endpoint's docstring, instead of
    FastAPI's title-cased function name ("Get One")."""
    first = (operation.get("description") or "").strip().split("\n\n")[0].replace("\n", " ")
    if first:
        for stop in (". ", "。"):
            first = first.split(stop)[0]
        operation["summary"] = first.rstrip(".")[:90]


def install(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM_SCHEMA
        # the docs page's Authorize button: paste a key, and "Try it out" sends it
        schema["components"]["securitySchemes"] = {"apiKey": {
            "type": "http", "scheme": "bearer",
            "description": "an API key (`closedloop demo` prints one per role; admins issue them at /v1/api-keys)"}}
        # FastAPI's own 422 describes its default body; this API answers problem+json instead
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        ref = {"$ref": "#/components/schemas/Problem"}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                _summarise(operation)
                if path.startswith("/v1/"):
                    operation["security"] = [{"apiKey": []}]
                if path == "/healthz":
                    continue
                for code in statuses(path, method, operation):
                    answer = {"description": MEANINGS[code], "content": {"application/problem+json": {"schema": ref}}}
                    if code in (429, 503):
                        answer["headers"] = _RETRY_AFTER
                    responses[str(code)] = answer
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
