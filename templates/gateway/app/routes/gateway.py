"""An OpenAI-compatible gateway: `POST /v1/chat/completions` and `GET /v1/models`.

Any OpenAI SDK pointed at this app (`base_url=".../v1"`) reaches the configured provider
through it, and the provider's key never leaves the server. Requests and answers pass
through as they are, in OpenAI's wire format; so do the provider's errors and their
status codes, except that a refused key is the server's problem (502), not the client's.
With the mock provider the gateway answers offline in the same format.
"""

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import httpx2
import openai
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.sse import KEEPALIVE_COMMENT, EventSourceResponse, ServerSentEvent, format_sse_event
from openai import AsyncStream
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.types import Receive, Scope, Send

from app.config import Settings
from app.deps import DrainDep, OpenAIClientDep, ProviderDep, SettingsDep, accepting
from app.guards import check_limits
from app.inference import ChatProvider, InferenceError, complete, note_error, note_first_token
from app.schemas import ChatMessage, ChatRequest, Delta, Done
from app.shutdown import Drain
from app.streaming import STREAM_HEADERS

logger = logging.getLogger(__name__)

KEEPALIVE_INTERVAL = 15.0
"""Seconds of silence after which a `: ping` comment keeps the stream open (as /v1/chat/stream)."""

# Operations that are the model itself, not actions an agent should call as tools.
NOT_A_TOOL: dict[str, Any] = {"x-agent-tool": False}


class OpenAIRoute(APIRoute):
    """Reports an invalid request the way OpenAI does (400 and an `error` object), and so
    the server's own refusals (`shutting_down` while it stops)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                error = exc.errors()[0]
                where = error["loc"][1:] if error["type"] != "json_invalid" else ()
                param = ".".join(str(part) for part in where) or None
                message = f"{param}: {error['msg']}" if param else error["msg"]
                return error_response(400, message, "invalid_request_error", param=param)
            except InferenceError as exc:
                headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
                body = {"error": server_error(exc)}
                return JSONResponse(body, status_code=exc.status_code, headers=headers)

        return route_handler


router = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute)


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
    return {"model": OpenAIErrorResponse, "description": description}


PROVIDER_ERRORS: dict[int | str, dict[str, Any]] = {
    502: openai_error("The provider failed, could not be reached, or refused the server's key"),
    504: openai_error("The provider did not answer in time"),
    # Any other refusal of the provider passes through with its own status and body.
    "default": {"description": "An error of the provider, with its status code and body"},
}


def prompt_chars(message: dict[str, Any]) -> int:
    """The characters of a message's text: its content, or its content parts' text."""
    content = message.get("content")
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        parts = [part.get("text") for part in content if isinstance(part, dict)]
        return sum(len(text) for text in parts if isinstance(text, str))
    return 0


async def checked_completion(body: CompletionRequest, settings: SettingsDep) -> CompletionRequest:
    """The request, if it is within the limits /v1/chat has (400 otherwise, as OpenAI's)."""
    check_limits(
        settings,
        messages=len(body.messages),
        prompt_chars=sum(prompt_chars(message) for message in body.messages),
        max_tokens={
            "max_tokens": body.max_tokens,
            "max_completion_tokens": body.max_completion_tokens,
        },
    )
    return body


CheckedCompletion = Annotated[CompletionRequest, Depends(checked_completion)]


def error_object(
    message: str, type_: str, *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's `error` object."""
    return {"message": message, "type": type_, "param": param, "code": code}


def error_response(
    status: int,
    message: str,
    type_: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error = error_object(message, type_, code=code, param=param)
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def server_error(exc: InferenceError) -> dict[str, Any]:
    """One of the server's own errors (`shutting_down`: retry the request) as an `error` object."""
    return error_object(exc.message, "api_error", code=exc.code)


@dataclass
class UpstreamError:
    """A failure of the provider: the status code and `error` object to send on."""

    status: int
    error: dict[str, Any]
    retry_after: str | None = None

    def response(self) -> JSONResponse:
        headers = {"Retry-After": self.retry_after} if self.retry_after else None
        return JSONResponse({"error": self.error}, status_code=self.status, headers=headers)


def upstream_error(exc: Exception, settings: Settings) -> UpstreamError:
    """The provider's error in OpenAI's shape, with the server's key redacted from it."""
    secret = settings.api_key.get_secret_value() if settings.api_key else None

    def redact(value: Any) -> Any:
        text = json.dumps(value)
        return json.loads(text.replace(secret, "[redacted]")) if secret else value

    logger.warning("gateway: upstream request failed: %s", redact(str(exc)))

    match exc:
        case openai.APIStatusError(status_code=401 | 403):
            # The server's key was refused: the client's credentials are not in question.
            message = "The provider refused the server's API key."
            return UpstreamError(502, error_object(message, "api_error", code="upstream_auth"))
        case openai.APIStatusError():
            body = exc.body if isinstance(exc.body, dict) else {}
            body = error_object(exc.message, "api_error") | body
            retry_after = exc.response.headers.get("retry-after")
            return UpstreamError(exc.status_code, redact(body), retry_after)
        case openai.APITimeoutError() | httpx2.TimeoutException():
            message = "The provider did not answer in time."
            return UpstreamError(504, error_object(message, "api_error", code="timeout"))
        case openai.APIConnectionError() | httpx2.TransportError():
            message = "The connection to the provider failed or was cut."
            return UpstreamError(
                502, error_object(message, "api_error", code="upstream_unavailable")
            )
        case openai.APIError(body=dict() as body):  # an error event in the middle of a stream
            return UpstreamError(502, redact(body))
        case _:
            message = "The provider failed to answer."
            return UpstreamError(502, error_object(message, "api_error", code="upstream_error"))


UPSTREAM_ERRORS = (openai.APIError, httpx2.HTTPError, httpx2.StreamError)


class EventStream(EventSourceResponse):
    """Sends Server-Sent Events as they come, with a `: ping` comment after a silence.

    FastAPI's `yield` endpoints commit to a 200 stream before they run, but this endpoint
    answers with JSON or a stream, and only once the provider accepted the request (so that
    a refusal keeps its status code): it returns this response instead, with the same
    events (`fastapi.sse`) and keep-alive. `on_close` runs however the response ends, also
    when the client goes away before the first event: it closes the upstream request.
    """

    def __init__(
        self,
        events: AsyncIterator[ServerSentEvent],
        on_close: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        super().__init__(self._encode(events))
        self.headers["Cache-Control"] = "no-cache"
        self.headers["X-Accel-Buffering"] = "no"  # no buffering in proxies
        self.headers.update(STREAM_HEADERS)
        self._on_close = on_close

    @staticmethod
    async def _encode(events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[bytes]:
        async for event in events:
            yield format_sse_event(data_str=event.raw_data, event=event.event, id=event.id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self._on_close is not None:
                with anyio.CancelScope(shield=True):
                    await self._on_close()

    async def stream_response(self, send: Send) -> None:
        start = {"type": "http.response.start", "status": self.status_code}
        await send(start | {"headers": self.raw_headers})
        last_sent = anyio.current_time()

        async def send_body(chunk: bytes) -> None:
            nonlocal last_sent
            last_sent = anyio.current_time()
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

        async def keep_alive() -> None:
            while True:
                await anyio.sleep(max(0.0, last_sent + KEEPALIVE_INTERVAL - anyio.current_time()))
                if anyio.current_time() - last_sent >= KEEPALIVE_INTERVAL:
                    await send_body(KEEPALIVE_COMMENT)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(keep_alive)
            async for chunk in self.body_iterator:
                await send_body(chunk if isinstance(chunk, bytes) else bytes(chunk))
            tasks.cancel_scope.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def data(value: Any) -> ServerSentEvent:
    return ServerSentEvent(raw_data=json.dumps(value, separators=(",", ":")))


DONE = ServerSentEvent(raw_data="[DONE]")


def check_model(body: CompletionRequest, settings: Settings) -> str | JSONResponse:
    """The model to ask for, or the error when the server does not offer it."""
    model = body.model or settings.model
    if settings.gateway_models and model not in {settings.model, *settings.gateway_models}:
        message = f"The model `{model}` does not exist or you do not have access to it."
        return error_response(404, message, "invalid_request_error", code="model_not_found")
    return model


@router.post(
    "/chat/completions",
    operation_id="create_chat_completion",
    summary="Create a chat completion (OpenAI-compatible)",
    # While the server stops, new completions get a 503 (`shutting_down`), as new chats do.
    dependencies=[Depends(accepting)],
    openapi_extra=NOT_A_TOOL,
    responses={
        200: {
            "description": "A `chat.completion`, or with `stream: true` a stream of "
            "`chat.completion.chunk` events that ends with `data: [DONE]`",
            "content": {
                "text/event-stream": {},
            },
        },
        400: openai_error("The request is invalid or over this server's limits"),
        404: openai_error("The server does not offer this model (GATEWAY_MODELS)"),
        503: openai_error("The server is restarting; retry"),
        **PROVIDER_ERRORS,
    },
)
async def create_chat_completion(
    body: CheckedCompletion,
    settings: SettingsDep,
    client: OpenAIClientDep,
    provider: ProviderDep,
    drain: DrainDep,
) -> Response:
    """OpenAI's chat completions API, answered by the configured provider with the server's key."""
    model = check_model(body, settings)
    if isinstance(model, JSONResponse):
        return model
    if client is None:
        return await mock_completion(body, model, provider, drain)

    payload = body.model_dump(exclude_unset=True) | {"model": model}
    try:
        if not body.stream:
            completion = await client.post("/chat/completions", body=payload, cast_to=object)
            return JSONResponse(completion)
        # Opened before answering, so a refusal keeps its status code.
        stream = await client.post(
            "/chat/completions",
            body=payload,
            cast_to=object,
            stream=True,
            stream_cls=AsyncStream[object],
        )
    except UPSTREAM_ERRORS as exc:
        return upstream_error(exc, settings).response()
    return EventStream(relay(stream, settings, drain), on_close=stream.close)


async def relay(
    stream: AsyncStream[object], settings: Settings, drain: Drain
) -> AsyncIterator[ServerSentEvent]:
    """The provider's chunks as they come; a failure midway, or the server stopping past
    SHUTDOWN_GRACE, ends the stream with an `error` object."""
    try:
        # Leaving this block closes the upstream response, also when the client goes away.
        async with stream:
            async for chunk in drain.until_deadline(aiter(stream)):
                note_first_token()
                yield data(chunk)
    except UPSTREAM_ERRORS as exc:
        yield data({"error": upstream_error(exc, settings).error})
        return
    except InferenceError as exc:  # shutting_down
        note_error(exc.code)
        yield data({"error": server_error(exc)})
        return
    yield DONE


def mock_request(body: CompletionRequest, model: str) -> ChatRequest:
    """The mock's view of an OpenAI request: plain-text messages of the roles it knows."""
    messages = []
    for message in body.messages:
        role = "system" if message.get("role") == "developer" else message.get("role")
        if role not in ("system", "user", "assistant"):
            continue
        content = message.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        text = content if isinstance(content, str) else ""
        messages.append(ChatMessage.model_construct(role=role, content=text))
    limit = body.max_completion_tokens or body.max_tokens
    return ChatRequest.model_construct(messages=messages, model=model, max_tokens=limit)


async def mock_completion(
    body: CompletionRequest, model: str, provider: ChatProvider, drain: Drain
) -> Response:
    chat = mock_request(body, model)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not body.stream:
        answer = await complete(provider, chat)
        message = {"role": "assistant", "content": answer.text}
        choice = {"index": 0, "message": message, "finish_reason": answer.finish_reason}
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": answer.model,
                "choices": [choice],
                "usage": answer.usage.model_dump() if answer.usage else None,
            }
        )

    include_usage = bool((body.stream_options or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> ServerSentEvent:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return data(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [choice],
            }
        )

    async def events() -> AsyncIterator[ServerSentEvent]:
        yield chunk({"role": "assistant", "content": ""})
        try:
            async for event in drain.until_deadline(provider.stream(chat)):
                if isinstance(event, Delta):
                    note_first_token()
                    yield chunk({"content": event.text})
                elif isinstance(event, Done):
                    yield chunk({}, event.finish_reason)
                    if include_usage and event.usage is not None:
                        usage_chunk = {
                            "id": completion_id,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": model,
                            "choices": [],
                            "usage": event.usage.model_dump(),
                        }
                        yield data(usage_chunk)
        except InferenceError as exc:  # shutting_down
            note_error(exc.code)
            yield data({"error": server_error(exc)})
            return
        yield DONE

    return EventStream(events())


class Model(BaseModel):
    id: str
    object: str = "model"
    created: int = 0
    owned_by: str


class ModelList(BaseModel):
    object: str = "list"
    data: list[Model]


@router.get(
    "/models",
    operation_id="list_models",
    summary="List the models (OpenAI-compatible)",
    openapi_extra=NOT_A_TOOL,
    response_model=ModelList,
    responses=PROVIDER_ERRORS,
)
async def list_models(settings: SettingsDep, client: OpenAIClientDep) -> Response:
    """The models clients may ask for: GATEWAY_MODELS when set, otherwise the provider's list."""
    if client is None or settings.gateway_models:
        ids = dict.fromkeys([settings.model, *settings.gateway_models])
        models = ModelList(data=[Model(id=id_, owned_by=settings.provider) for id_ in ids])
        return JSONResponse(models.model_dump())
    try:
        listing = await client.get("/models", cast_to=object)
    except UPSTREAM_ERRORS as exc:
        return upstream_error(exc, settings).response()
    return JSONResponse(listing)
