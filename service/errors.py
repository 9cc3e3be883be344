"""Domain errors and their problem+json answers (RFC 9457).

Every wrong request gets a 4xx ``application/problem+json`` whose ``detail`` names the field and
the fix. The domain raises these; the API turns them into answers in one place (``app.py``).
"""

from __future__ import annotations


class Problem(Exception):
    status = 400
    title = "Bad request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Invalid(Problem):
    status = 422
    title = "Invalid request"


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="closedloop"'}


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    title = "Not found"


class Conflict(Problem):
    status = 409
    title = "Conflict"


class PreconditionFailed(Problem):
    status = 412
    title = "Precondition failed"


class TooLarge(Problem):
    status = 413
    title = "Request too large"


class TooManyRequests(Problem):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: float, **extra):
        super().__init__(detail, retry_after=max(1, round(retry_after + 0.4)), **extra)
        self.headers = {"Retry-After": str(self.extra["retry_after"])}
