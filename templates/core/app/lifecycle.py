"""The settings an app runs with, and the startup and shutdown work that features add."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from app.config import Settings

LifespanHook = Callable[[FastAPI, Settings], AbstractAsyncContextManager[None]]


def app_settings(app: FastAPI) -> Settings:
    """The settings `create_app(settings)` built `app` for."""
    settings: Settings = app.state.settings
    return settings


def lifespan_hooks(app: FastAPI) -> list[LifespanHook]:
    """Context managers the lifespan enters at startup, in order, and leaves at shutdown.

    A feature's `setup(app)` appends to this list: `lifespan_hooks(app).append(hook)`.
    """
    if not hasattr(app.state, "lifespan_hooks"):
        app.state.lifespan_hooks = []
    hooks: list[LifespanHook] = app.state.lifespan_hooks
    return hooks
