"""The ASGI entry point: ``uvicorn service.asgi:app`` (configuration from the environment).

Without ``CLOSEDLOOP_REDIS_URL`` the deadline sweep runs inside this process (the embedded
default); with it, Celery's worker and beat run it.
"""

from .app import create_app

app = create_app(scheduler=True)
