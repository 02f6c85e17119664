"""Limits on what one request may ask."""

from typing import Annotated, Any

from fastapi import Depends, HTTPException
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.deps import SettingsDep
from app.schemas import ChatRequest, ErrorDetail, ErrorResponse


class RequestTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")

    def response(self) -> JSONResponse:
        detail = ErrorDetail(code="request_too_large", message=self.detail)
        return JSONResponse(ErrorResponse(error=detail).model_dump(), status_code=413)


class BodySizeLimit:
    """413 for a body over MAX_REQUEST_BYTES: at once by its Content-Length, else as it arrives."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            return await RequestTooLarge(self.limit).response()(scope, receive, send)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                # An HTTPException: FastAPI lets it out of reading the body, to the app's handler.
                raise RequestTooLarge(self.limit)
            return message

        await self.app(scope, limited_receive, send)


def check_limits(
    settings: Settings, *, messages: int, prompt_chars: int, max_tokens: dict[str, int | None]
) -> None:
    """Raises a validation error (422, or OpenAI's 400 on the gateway) for a request over a
    limit; `max_tokens`: the request's fields that cap the answer, by name."""
    errors: list[dict[str, Any]] = []

    def refuse(field: str, message: str) -> None:
        errors.append({"type": "limit_exceeded", "loc": ("body", field), "msg": message})

    if messages > settings.max_messages:
        refuse("messages", f"At most {settings.max_messages} messages per request.")
    if prompt_chars > settings.max_prompt_chars:
        refuse("messages", f"At most {settings.max_prompt_chars} characters per request.")
    for field, value in max_tokens.items():
        if value is not None and value > settings.max_output_tokens:
            refuse(field, f"{field} may be at most {settings.max_output_tokens}.")
    if errors:
        raise RequestValidationError(errors)


async def checked_chat(payload: ChatRequest, settings: SettingsDep) -> ChatRequest:
    """The chat request, if it is within MAX_MESSAGES, MAX_PROMPT_CHARS and MAX_OUTPUT_TOKENS."""
    check_limits(
        settings,
        messages=len(payload.messages),
        prompt_chars=sum(len(message.content) for message in payload.messages),
        max_tokens={"max_tokens": payload.max_tokens},
    )
    return payload


CheckedChat = Annotated[ChatRequest, Depends(checked_chat)]


TOO_LARGE = {
    "description": "The request body is larger than MAX_REQUEST_BYTES",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}


def document_limits(schema: dict[str, Any], settings: Settings) -> None:
    """Writes the limits and MODEL into the served OpenAPI document, for clients and fuzzers."""
    models = schema.get("components", {}).get("schemas", {})
    for model in models.values():
        fields = model.get("properties", {})
        if "messages" in fields:
            fields["messages"]["maxItems"] = settings.max_messages
        for name in ("max_tokens", "max_completion_tokens"):
            for option in fields.get(name, {}).get("anyOf", []):
                if option.get("type") == "integer":
                    option["maximum"] = settings.max_output_tokens
        for example in model.get("examples", []):
            if isinstance(example, dict) and "model" in example:
                example["model"] = settings.model
    content = models.get("ChatMessage", {}).get("properties", {}).get("content", {})
    if "maxLength" in content:
        content["maxLength"] = min(content["maxLength"], settings.max_prompt_chars)
