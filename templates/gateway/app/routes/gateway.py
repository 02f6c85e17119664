"""An OpenAI-compatible gateway: `POST /v1/chat/completions` and `GET /v1/models` pass OpenAI's
wire format through to the provider with the server's key; the mock answers in the same format."""

import json
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Coroutine
from contextlib import aclosing
from typing import Annotated, Any, Literal, get_args

import openai
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.sse import EventSourceResponse, ServerSentEvent
from openai import AsyncStream
from openai.types import Model
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.config import Settings
from app.deps import DrainDep, OpenAIClientDep, ProviderDep, SettingsDep, accepting
from app.guards import check_limits
from app.inference import (
    UPSTREAM_ERRORS,
    ChatProvider,
    InferenceError,
    complete,
    note_error,
    note_first_token,
    provider_error,
    redact,
)
from app.schemas import ChatMessage, ChatRequest, Delta, Role
from app.streaming import unbuffered_stream


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

    model: str | None = Field(None, min_length=1, max_length=200, description="Defaults to MODEL.")
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


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class OpenAIAPIError(Exception):
    """An error answer in OpenAI's shape; `error` is its `error` object."""

    def __init__(self, status: int, error: dict[str, Any], retry_after: str | None = None):
        super().__init__(status, error)
        self.error = {"message": "", "type": "api_error", "param": None, "code": None} | error
        headers = {"Retry-After": retry_after} if retry_after else None
        self.response = JSONResponse({"error": self.error}, status_code=status, headers=headers)

    @classmethod
    def of(cls, exc: InferenceError) -> "OpenAIAPIError":
        return cls(exc.status_code, {"message": exc.message, "code": exc.code}, exc.retry_after)


class OpenAIRoute(APIRoute):
    """A route that answers every error in OpenAI's shape, as OpenAI SDKs expect."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_in_openai_shape(request: Request) -> Response:
            try:
                return await handle(request)
            except OpenAIAPIError as exc:
                return exc.response
            except InferenceError as exc:  # shutting_down
                return OpenAIAPIError.of(exc).response
            except RequestValidationError as exc:  # OpenAI's 400, not FastAPI's 422
                error = exc.errors()[0]
                where = error["loc"][1:] if error["type"] != "json_invalid" else ()
                param = ".".join(str(part) for part in where) or None
                message = f"{param}: {error['msg']}" if param else error["msg"]
                body = {"message": message, "type": "invalid_request_error", "param": param}
                return OpenAIAPIError(400, body).response

        return handle_in_openai_shape


router = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute)


def documented(description: str) -> dict[str, Any]:
    return {"model": OpenAIErrorResponse, "description": description}


PROVIDER_ERRORS: dict[int | str, dict[str, Any]] = {
    502: documented("The provider failed, could not be reached, or refused the server's key"),
    504: documented("The provider did not answer in time"),
    # Any other refusal of the provider passes through with its own status and body.
    "default": {"description": "An error of the provider, with its status code and body"},
}


def upstream_error(exc: Exception, settings: Settings) -> OpenAIAPIError:
    """The provider's own status and error, key redacted; a refused key is the server's 502."""
    secret = settings.api_key.get_secret_value() if settings.api_key else None
    error = provider_error(exc, secret)
    body = exc.body if isinstance(exc, openai.APIError) and isinstance(exc.body, dict) else {}
    if isinstance(exc, openai.APIStatusError) and error.code != "upstream_auth":
        status, retry_after = exc.status_code, exc.response.headers.get("retry-after")
        body = {"message": exc.message} | body
    elif body and not isinstance(exc, openai.APIStatusError):  # an `error` chunk mid-stream
        status, retry_after = 502, None
    else:
        return OpenAIAPIError.of(error)
    return OpenAIAPIError(status, json.loads(redact(json.dumps(body), secret)), retry_after)


def message_text(message: dict[str, Any]) -> str:
    """A message's text: its content, or the text of its content parts."""
    content = message.get("content")
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, dict)]
        content = "".join(text for text in texts if isinstance(text, str))
    return content if isinstance(content, str) else ""


async def checked_completion(body: CompletionRequest, settings: SettingsDep) -> CompletionRequest:
    """The request, within the limits of /v1/chat and for a model offered, with `model` set."""
    check_limits(
        settings,
        messages=len(body.messages),
        prompt_chars=sum(len(message_text(message)) for message in body.messages),
        max_tokens=body.model_dump(include={"max_tokens", "max_completion_tokens"}),
    )
    model = body.model or settings.model
    if settings.gateway_models and model not in {settings.model, *settings.gateway_models}:
        message = f"The model `{model}` does not exist or you do not have access to it."
        error = {"message": message, "type": "invalid_request_error", "code": "model_not_found"}
        raise OpenAIAPIError(404, error)
    body.model = model
    return body


CheckedCompletion = Annotated[CompletionRequest, Depends(checked_completion)]


async def upstream_chunks(
    body: CheckedCompletion, settings: SettingsDep, client: OpenAIClientDep, provider: ProviderDep
) -> AsyncIterator[AsyncIterator[Any]]:
    """Opened before the response starts, so that a refusal keeps its status; closed with it."""
    if client is None:
        async with aclosing(mock_chunks(body, provider)) as chunks:
            yield chunks
        return
    try:
        stream = await client.post(
            "/chat/completions",
            body=body.model_dump(exclude_unset=True),
            cast_to=object,
            stream=True,
            stream_cls=AsyncStream[object],
        )
    except UPSTREAM_ERRORS as exc:
        raise upstream_error(exc, settings) from exc
    async with stream:
        yield stream


def has_token(chunk: Any) -> bool:
    """A chunk with text of the answer (not the role or usage chunk)."""
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    return bool(choices and (choices[0].get("delta") or {}).get("content"))


async def stream_chat_completion(
    chunks: Annotated[AsyncIterator[Any], Depends(upstream_chunks, scope="request")],
    settings: SettingsDep,
    drain: DrainDep,
) -> AsyncIterable[Any]:
    """The chunks, then `[DONE]`; a failure or SHUTDOWN_GRACE ending it sends an `error`."""
    try:
        async for chunk in drain.until_deadline(chunks):
            if has_token(chunk):
                note_first_token()
            yield chunk
    except UPSTREAM_ERRORS as exc:
        yield {"error": upstream_error(exc, settings).error}
        return
    except InferenceError as exc:  # shutting_down
        note_error(exc.code)
        yield {"error": OpenAIAPIError.of(exc).error}
        return
    yield ServerSentEvent(raw_data="[DONE]")


# FastAPI sends a `yield` endpoint's events, with its pings, whatever the request asks for, and
# the path answers JSON too: the documented route below hands the streams to this one.
stream_route = APIRoute(
    "/v1/chat/completions",
    stream_chat_completion,
    methods=["POST"],
    response_class=EventSourceResponse,
    dependencies=[Depends(unbuffered_stream)],
)
send_stream = stream_route.get_route_handler()


@router.post(
    "/chat/completions",
    summary="Create a chat completion (OpenAI-compatible)",
    dependencies=[Depends(accepting)],
    openapi_extra={"x-agent-tool": False},  # the model itself, not an action for an agent
    response_model=None,
    responses={
        200: {
            "description": "A `chat.completion`, or with `stream: true` a stream of "
            "`chat.completion.chunk` events that ends with `data: [DONE]`",
            "content": {"text/event-stream": {}},
        },
        400: documented("The request is invalid or over this server's limits"),
        404: documented("The server does not offer this model (GATEWAY_MODELS)"),
        503: documented("The server is restarting; retry"),
        **PROVIDER_ERRORS,
    },
)
async def create_chat_completion(
    request: Request,
    body: CheckedCompletion,
    settings: SettingsDep,
    client: OpenAIClientDep,
    provider: ProviderDep,
) -> Response:
    """OpenAI's chat completions API, answered by the configured provider with the server's key."""
    if body.stream:
        return await send_stream(request)
    if client is None:
        return JSONResponse(await mock_completion(body, provider))
    payload = body.model_dump(exclude_unset=True)
    try:
        completion = await client.post("/chat/completions", body=payload, cast_to=object)
    except UPSTREAM_ERRORS as exc:
        raise upstream_error(exc, settings) from exc
    return JSONResponse(completion)


MOCK_ROLES: dict[str, Role] = {role: role for role in get_args(Role)} | {"developer": "system"}


def mock_request(body: CompletionRequest) -> ChatRequest:
    """The mock's view of an OpenAI request: plain-text messages of the roles it knows."""
    messages = [
        ChatMessage.model_construct(role=MOCK_ROLES[message["role"]], content=message_text(message))
        for message in body.messages
        if message.get("role") in MOCK_ROLES
    ]
    limit = body.max_completion_tokens or body.max_tokens
    return ChatRequest.model_construct(messages=messages, model=body.model, max_tokens=limit)


def completion_id() -> dict[str, Any]:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time())}


async def mock_chunks(
    body: CompletionRequest, provider: ChatProvider
) -> AsyncGenerator[dict[str, Any], None]:
    """The mock's answer as an OpenAI stream's chunks, a usage chunk when asked for."""
    chunk = completion_id() | {"object": "chat.completion.chunk", "model": body.model}

    def choice(delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
        return chunk | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    yield choice({"role": "assistant", "content": ""})
    async with aclosing(provider.stream(mock_request(body))) as events:
        async for event in events:
            if isinstance(event, Delta):
                yield choice({"content": event.text})
                continue
            yield choice({}, event.finish_reason)
            if (body.stream_options or {}).get("include_usage") and event.usage is not None:
                yield chunk | {"choices": [], "usage": event.usage.model_dump()}


async def mock_completion(body: CompletionRequest, provider: ChatProvider) -> dict[str, Any]:
    answer = await complete(provider, mock_request(body))
    message = {"role": "assistant", "content": answer.text}
    return completion_id() | {
        "object": "chat.completion",
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "usage": answer.usage.model_dump() if answer.usage else None,
    }


@router.get(
    "/models",
    summary="List the models (OpenAI-compatible)",
    openapi_extra={"x-agent-tool": False},
    response_model=ModelList,
    responses=PROVIDER_ERRORS,
)
async def list_models(settings: SettingsDep, client: OpenAIClientDep) -> Response:
    """The models clients may ask for: GATEWAY_MODELS when set, otherwise the provider's list."""
    if client is None or settings.gateway_models:
        ids = dict.fromkeys([settings.model, *settings.gateway_models])
        owner = settings.provider
        models = [{"id": id_, "object": "model", "created": 0, "owned_by": owner} for id_ in ids]
        return JSONResponse({"object": "list", "data": models})
    try:
        listing = await client.get("/models", cast_to=object)
    except UPSTREAM_ERRORS as exc:
        raise upstream_error(exc, settings) from exc
    return JSONResponse(listing)
