"""What an endpoint asks FastAPI for: the runtime, a database session, and the caller.

Kept apart from ``app.py`` so that the domains' routers import these without importing the
application that imports them.
"""

from __future__ import annotations

from typing import AsyncIterator

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from .auth.keys import authenticate
from .auth.principal import Principal
from .runtime import Runtime


# ``runtime`` and ``db`` are async so that FastAPI does not hop to a worker thread for each of
# them on every request (a sync dependency runs in the thread pool): opening a session does no
# I/O, and closing one after its commit only returns the connection to the pool.
async def runtime(request: Request) -> Runtime:
    rt = request.app.state.rt
    rt.refresh_calendar_now_and_then()
    return rt


# A request that failed may hold row locks that other requests' threads wait on: its rollback
# takes a thread of its own, never one of the endpoints' (Settings.request_threads), all of which
# could be waiting on those very locks. One limiter per event loop, as anyio keeps its own.
_ROLLBACKS: RunVar[anyio.CapacityLimiter] = RunVar("closedloop_rollbacks")


def _rollbacks() -> anyio.CapacityLimiter:
    try:
        return _ROLLBACKS.get()
    except LookupError:
        _ROLLBACKS.set(limiter := anyio.CapacityLimiter(16))
        return limiter


async def db(rt: Runtime = Depends(runtime)) -> AsyncIterator[Session]:
    """One session per request; handlers commit, anything else rolls back."""
    session = rt.session()
    try:
        yield session
    finally:
        if session.in_transaction():  # a rollback: a round trip, off the event loop
            await anyio.to_thread.run_sync(session.close, limiter=_rollbacks())
        else:
            session.close()


def principal(request: Request, session: Session = Depends(db)) -> Principal:
    """The caller, once its key is known and its rate allows this request."""
    rt: Runtime = request.app.state.rt
    authorization = request.headers.get("authorization")
    p = authenticate(session, authorization)
    rt.limiter.admit(p, authorization)
    return p
