"""The ASGI entry point: ``uvicorn service.asgi:app`` (configuration from the environment)."""

from .app import create_app

app = create_app()
