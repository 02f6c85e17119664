"""The application: `create_app(settings)` builds it, `app` is what uvicorn serves."""

import sys

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from pydantic_settings import SettingsError
from starlette.exceptions import HTTPException

from app.api import api_router, exception_handlers
from app.config import PROJECT_NAME, SettingError, Settings, settings_problems
from app.guards import RequestTooLarge
from app.inference import InferenceError
from app.lifespan import check_settings, lifespan
from app.middleware import middleware
from app.routes import health
from app.schemas import ErrorResponse
from app.shutdown import Drain


async def inference_error(request: Request, exc: InferenceError) -> JSONResponse:
    headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
    body = ErrorResponse(error=exc.detail())
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=headers)


async def http_error(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, RequestTooLarge):
        return exc.response()
    if isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI's 400 for a body that is not UTF-8: a 422 like any other body that is not JSON.
        error = {"type": "json_invalid", "loc": ["body"], "msg": "The body is not UTF-8 JSON."}
        return JSONResponse({"detail": [error]}, status_code=422)
    return await http_exception_handler(request, exc)


def create_app(settings: Settings) -> FastAPI:
    """Raises SettingError when a feature cannot run with `settings`."""
    check_settings(settings)
    app = FastAPI(
        title=PROJECT_NAME,
        summary="Streams LLM answers over Server-Sent Events.",
        version="0.1.0",
        lifespan=lifespan,
        middleware=middleware(settings),
        exception_handlers={
            InferenceError: inference_error,
            HTTPException: http_error,
            **exception_handlers,
        },
        # An operationId is its function's name (`chat`): clients and MCP tools are named after it.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    app.state.drain = Drain(settings.shutdown_grace)
    app.include_router(health.router)
    app.include_router(api_router)
    return app


def serve_from_environment() -> FastAPI:
    """The app for the environment and `.env`. A bad setting stops the process before the server
    listens: one line per setting on stderr, exit code 3 (uvicorn's for a failed startup)."""
    try:
        return create_app(Settings())
    except (ValidationError, SettingsError, SettingError) as exc:
        for line in settings_problems(exc):
            sys.stderr.write(f"error: {line}\n")
        raise SystemExit(3) from None


def __getattr__(name: str) -> FastAPI:
    """`app.main:app`, built on first use: tests import `create_app` without the environment."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    app = globals()["app"] = serve_from_environment()
    return app


def __dir__() -> list[str]:
    return [*globals(), "app"]  # `fastapi dev` looks for the app in dir(module)
