"""An OpenAI-compatible gateway: `POST /v1/chat/completions` and `GET /v1/models`.

Any OpenAI SDK pointed at this app (`base_url=".../v1"`) reaches the configured provider
through it, and the provider's key never leaves the server. Requests and answers pass
through as they are, in OpenAI's wire format; so do the provider's errors and their
status codes, except that a refused key is the server's problem (502), not the client's.
With the mock provider the gateway answers offline in the same format.
"""

import json
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any, get_args

import openai
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.sse import EventSourceResponse, ServerSentEvent
from openai import AsyncStream
from pydantic import BaseModel

from app.config import Settings
from app.deps import DrainDep, OpenAIClientDep, ProviderDep, SettingsDep
from app.guards import check_limits
from app.inference import (
    UPSTREAM_ERRORS,
    ChatProvider,
    InferenceError,
    complete,
    note_error,
    note_first_token,
    provider_error,
)
from app.openai_api import (
    CompletionRequest,
    OpenAIAPIError,
    error_object,
    openai_error,
    redact_json,
)
from app.schemas import ChatMessage, ChatRequest, Delta, Role
from app.shutdown import shutting_down
from app.streaming import unbuffered_stream

router = APIRouter(prefix="/v1", tags=["openai"])

# Operations that are the model itself, not actions an agent should call as tools.
NOT_A_TOOL: dict[str, Any] = {"x-agent-tool": False}

PROVIDER_ERRORS: dict[int | str, dict[str, Any]] = {
    502: openai_error("The provider failed, could not be reached, or refused the server's key"),
    504: openai_error("The provider did not answer in time"),
    # Any other refusal of the provider passes through with its own status and body.
    "default": {"description": "An error of the provider, with its status code and body"},
}


def upstream_error(exc: Exception, settings: Settings) -> OpenAIAPIError:
    """The provider's failure in OpenAI's shape, with the server's key redacted from it: its
    own status and body when it answered, except that a refused key is a 502."""
    secret = settings.api_key.get_secret_value() if settings.api_key else None
    error = provider_error(exc, secret)
    if isinstance(exc, openai.APIStatusError):
        if error.code != "upstream_auth":
            body = error_object(exc.message) | (exc.body if isinstance(exc.body, dict) else {})
            retry_after = exc.response.headers.get("retry-after")
            return OpenAIAPIError(
                exc.status_code, redact_json(body, secret), retry_after=retry_after
            )
    elif isinstance(exc, openai.APIError) and isinstance(exc.body, dict):  # an error chunk
        return OpenAIAPIError(502, redact_json(exc.body, secret))
    body = error_object(error.message, code=error.code)
    return OpenAIAPIError(error.status_code, body, retry_after=error.retry_after)


def prompt_chars(message: dict[str, Any]) -> int:
    """The characters of a message's text: its content, or its content parts' text."""
    content = message.get("content")
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        parts = [part.get("text") for part in content if isinstance(part, dict)]
        return sum(len(text) for text in parts if isinstance(text, str))
    return 0


async def accepting_completions(drain: DrainDep) -> None:
    """While the server stops, new completions get a 503 (`shutting_down`), as new chats do."""
    if drain.draining:
        raise OpenAIAPIError.of(shutting_down())


async def checked_completion(body: CompletionRequest, settings: SettingsDep) -> CompletionRequest:
    """The request, if it is within the limits /v1/chat has (400 otherwise, as OpenAI's), for
    a model this server offers (404 otherwise); `model` is then always set."""
    check_limits(
        settings,
        messages=len(body.messages),
        prompt_chars=sum(prompt_chars(message) for message in body.messages),
        max_tokens={
            "max_tokens": body.max_tokens,
            "max_completion_tokens": body.max_completion_tokens,
        },
    )
    model = body.model or settings.model
    if settings.gateway_models and model not in {settings.model, *settings.gateway_models}:
        message = f"The model `{model}` does not exist or you do not have access to it."
        error = error_object(message, "invalid_request_error", code="model_not_found")
        raise OpenAIAPIError(404, error)
    body.model = model
    return body


CheckedCompletion = Annotated[CompletionRequest, Depends(checked_completion)]


async def upstream_chunks(
    body: CheckedCompletion, settings: SettingsDep, client: OpenAIClientDep, provider: ProviderDep
) -> AsyncIterator[AsyncIterator[Any]]:
    """The provider's chunks, opened before the response starts, so that a refusal keeps its
    status code, and closed when the response ends however it ends: when the client leaves
    too, which ends the upstream request."""
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


UpstreamChunks = Annotated[AsyncIterator[Any], Depends(upstream_chunks, scope="request")]


def data(value: Any) -> ServerSentEvent:
    return ServerSentEvent(raw_data=json.dumps(value, separators=(",", ":")))


def has_token(chunk: Any) -> bool:
    """A chunk with text of the answer (not the role or usage chunk)."""
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    return bool(choices and (choices[0].get("delta") or {}).get("content"))


async def stream_chat_completion(
    chunks: UpstreamChunks, settings: SettingsDep, drain: DrainDep
) -> AsyncIterable[ServerSentEvent]:
    """The provider's chunks as they come, then `[DONE]`; a failure midway, or the server
    stopping past SHUTDOWN_GRACE, ends the stream with an `error` object instead."""
    try:
        async for chunk in drain.until_deadline(chunks):
            if has_token(chunk):
                note_first_token()
            yield data(chunk)
    except UPSTREAM_ERRORS as exc:
        yield data({"error": upstream_error(exc, settings).error})
        return
    except InferenceError as exc:  # shutting_down
        note_error(exc.code)
        yield data({"error": OpenAIAPIError.of(exc).error})
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
    operation_id="create_chat_completion",
    summary="Create a chat completion (OpenAI-compatible)",
    dependencies=[Depends(accepting_completions)],
    openapi_extra=NOT_A_TOOL,
    response_model=None,
    responses={
        200: {
            "description": "A `chat.completion`, or with `stream: true` a stream of "
            "`chat.completion.chunk` events that ends with `data: [DONE]`",
            "content": {"text/event-stream": {}},
        },
        400: openai_error("The request is invalid or over this server's limits"),
        404: openai_error("The server does not offer this model (GATEWAY_MODELS)"),
        503: openai_error("The server is restarting; retry"),
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
    messages = []
    for message in body.messages:
        role = MOCK_ROLES.get(message.get("role", ""))
        if role is None:
            continue
        content = message.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        text = content if isinstance(content, str) else ""
        messages.append(ChatMessage.model_construct(role=role, content=text))
    limit = body.max_completion_tokens or body.max_tokens
    return ChatRequest.model_construct(messages=messages, model=body.model, max_tokens=limit)


def completion_id() -> dict[str, Any]:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time())}


async def mock_completion(body: CompletionRequest, provider: ChatProvider) -> dict[str, Any]:
    answer = await complete(provider, mock_request(body))
    message = {"role": "assistant", "content": answer.text}
    return completion_id() | {
        "object": "chat.completion",
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "usage": answer.usage.model_dump() if answer.usage else None,
    }


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
        raise upstream_error(exc, settings) from exc
    return JSONResponse(listing)
