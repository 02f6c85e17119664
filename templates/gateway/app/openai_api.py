"""OpenAI's wire format for the gateway: the request it accepts and its error answers."""

import json
from typing import Any

from fastapi import Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.inference import InferenceError, redact

OPENAI_PATHS = frozenset({"/v1/chat/completions", "/v1/models"})
"""The routes that answer every error in OpenAI's shape."""


class CompletionRequest(BaseModel):
    """OpenAI's chat completion request; fields not named here pass through to the provider."""

    # Strict, as OpenAI's API: `"stream": "yes"` is refused, not taken for true.
    model_config = ConfigDict(
        extra="allow",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "model": "gpt-5-mini",  # the configured MODEL in /openapi.json
                    "messages": [{"role": "user", "content": "Why is the sky blue?"}],
                    "stream": True,
                },
            ],
        },
    )

    model: str | None = Field(
        default=None, min_length=1, max_length=200, description="Defaults to the configured MODEL."
    )
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)

    @field_validator("max_tokens", "max_completion_tokens", mode="before")
    @classmethod
    def _integral(cls, value: object) -> object:
        # 256.0 is an integer in JSON (and JSON Schema); 256.5 and "256" are not.
        return int(value) if isinstance(value, float) and value.is_integer() else value


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorResponse(BaseModel):
    """OpenAI's error body, which OpenAI SDKs raise as their own exceptions."""

    error: OpenAIError


def openai_error(description: str) -> dict[str, Any]:
    """An error answer in a route's `responses`."""
    return {"model": OpenAIErrorResponse, "description": description}


def error_object(
    message: str, type_: str = "api_error", *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's `error` object."""
    return {"message": message, "type": type_, "param": param, "code": code}


class OpenAIAPIError(Exception):
    """An error answer in OpenAI's shape: raised by the gateway, answered by `openai_api_error`."""

    def __init__(self, status: int, error: dict[str, Any], *, retry_after: str | None = None):
        super().__init__(error.get("message"))
        self.status = status
        self.error = error
        self.retry_after = retry_after

    @classmethod
    def of(cls, exc: InferenceError) -> "OpenAIAPIError":
        """One of the server's own errors (`shutting_down`: retry the request)."""
        error = error_object(exc.message, code=exc.code)
        return cls(exc.status_code, error, retry_after=exc.retry_after)

    def response(self) -> JSONResponse:
        headers = {"Retry-After": self.retry_after} if self.retry_after else None
        return JSONResponse({"error": self.error}, status_code=self.status, headers=headers)


def redact_json(value: dict[str, Any], secret: str | None) -> dict[str, Any]:
    """`value` with `secret` redacted from every string in it."""
    redacted: dict[str, Any] = json.loads(redact(json.dumps(value), secret))
    return redacted if secret else value


async def openai_api_error(request: Request, exc: OpenAIAPIError) -> Response:
    return exc.response()


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    """An invalid request to the gateway as OpenAI reports it (400); FastAPI's 422 elsewhere."""
    if getattr(request.scope.get("route"), "path", None) not in OPENAI_PATHS:
        return await request_validation_exception_handler(request, exc)
    error = exc.errors()[0]
    where = error["loc"][1:] if error["type"] != "json_invalid" else ()
    param = ".".join(str(part) for part in where) or None
    message = f"{param}: {error['msg']}" if param else error["msg"]
    body = error_object(message, "invalid_request_error", param=param)
    return OpenAIAPIError(400, body).response()
