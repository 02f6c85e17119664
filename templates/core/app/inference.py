"""Inference providers: any OpenAI-compatible API, or an offline mock.

A provider streams `Delta` events and ends with one `Done`. Every failure of the
upstream API comes out as an `InferenceError`: a stable code and a message that
is safe to show to clients (no stack trace, no key).
"""

import asyncio
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2
import openai
from openai import AsyncOpenAI

from app.config import Settings
from app.schemas import ChatRequest, ChatResponse, Delta, Done, ErrorCode, ErrorDetail, Usage

logger = logging.getLogger(__name__)

StreamEvent = Delta | Done

STATUS_CODES: dict[ErrorCode, int] = {
    "bad_request": 400,
    "rate_limited": 429,
    "timeout": 504,
    "upstream_auth": 502,
    "upstream_unavailable": 502,
    "upstream_error": 502,
    "internal_error": 500,
    "unauthorized": 401,
    "request_too_large": 413,
    "shutting_down": 503,
}

# A failed attempt is retried (up to MAX_RETRIES) only while no token reached the client, and
# only when waiting is short: a longer Retry-After goes to the client as a 429.
RETRY_MAX_WAIT = 4.0
RETRYABLE: frozenset[ErrorCode] = frozenset(
    {"upstream_unavailable", "upstream_error", "rate_limited"}
)


@dataclass
class UpstreamCall:
    """What the provider did for the current request, for logs and metrics (when they ask)."""

    attempts: int = 0
    status: int | None = None
    """HTTP status of the provider's last answer; None before one or when the connection failed."""
    error: ErrorCode | None = None
    first_token: float | None = None
    """`time.perf_counter()` when the route sent the first token."""


upstream_call: ContextVar[UpstreamCall | None] = ContextVar("upstream_call", default=None)


class InferenceError(Exception):
    def __init__(self, code: ErrorCode, message: str, *, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.retry_after = retry_after

    @property
    def status_code(self) -> int:
        return STATUS_CODES[self.code]

    def detail(self) -> ErrorDetail:
        return ErrorDetail(code=self.code, message=self.message)


class ChatProvider(Protocol):
    def stream(self, chat: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Yields `Delta` events, then one `Done`; raises `InferenceError`."""
        ...


async def complete(provider: ChatProvider, chat: ChatRequest) -> ChatResponse:
    """The whole answer at once, read from the provider's stream.

    Streaming even here keeps one code path, and the read timeout then bounds the
    gap between two chunks rather than the time to generate the whole answer.
    """
    parts: list[str] = []
    async with aclosing(provider.stream(chat)) as events:
        async for event in events:
            if isinstance(event, Delta):
                parts.append(event.text)
            else:
                return ChatResponse(
                    text="".join(parts),
                    finish_reason=event.finish_reason,
                    usage=event.usage,
                    model=event.model,
                )
    raise InferenceError("upstream_error", "The provider's answer ended unexpectedly.")


class MockProvider:
    """Offline and deterministic: echoes the last user message back, word by word."""

    def __init__(self, *, model: str, token_delay: float) -> None:
        self._model = model
        self._token_delay = token_delay

    async def stream(self, chat: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        prompt = next((m.content for m in reversed(chat.messages) if m.role == "user"), "")
        words = re.findall(r"\S+\s*", prompt)
        limit = len(words) if chat.max_tokens is None else min(chat.max_tokens, len(words))
        for word in words[:limit]:
            await asyncio.sleep(self._token_delay)
            yield Delta(text=word)
        prompt_tokens = sum(len(m.content.split()) for m in chat.messages)
        yield Done(
            finish_reason="stop" if limit == len(words) else "length",
            usage=Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=limit,
                total_tokens=prompt_tokens + limit,
            ),
            model=chat.model or self._model,
        )


def create_client(settings: Settings) -> AsyncOpenAI:
    """The process-wide client: created in the lifespan, closed on shutdown."""
    return AsyncOpenAI(
        # The SDK insists on a key; keyless servers (Ollama, vLLM) ignore this one.
        api_key=settings.api_key.get_secret_value() if settings.api_key else "not-needed",
        base_url=settings.base_url,
        # `read` bounds the silence between two chunks, not the whole answer.
        timeout=httpx2.Timeout(settings.read_timeout, connect=settings.connect_timeout),
        # The provider retries itself, only before the first token and with short waits.
        max_retries=0,
    )


class OpenAICompatibleProvider:
    """Chat completions from any OpenAI-compatible API, through the shared client."""

    def __init__(self, client: AsyncOpenAI, settings: Settings) -> None:
        self._client = client
        self._model = settings.model
        self._stream_usage = settings.stream_usage
        self._max_tokens_param = settings.max_tokens_param
        self._max_retries = settings.max_retries
        self._secret = settings.api_key.get_secret_value() if settings.api_key else None

    async def stream(self, chat: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """One attempt, and more while nothing was sent yet and a retry may help."""
        for attempt in range(self._max_retries + 1):
            started = False
            try:
                # Closed here, not later by the garbage collector, when the client leaves
                # between two events: that closes the upstream response at once.
                async with aclosing(self._attempt(chat)) as events:
                    async for event in events:
                        started = True
                        yield event
                return
            except InferenceError as exc:
                wait = (
                    None if started or attempt == self._max_retries else _retry_wait(exc, attempt)
                )
                if wait is None:
                    raise
                logger.info("retrying in %.2f s after %s", wait, exc.code)
                await asyncio.sleep(wait)

    async def _attempt(self, chat: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        call = upstream_call.get()
        if call is not None:
            call.attempts += 1
        model = chat.model or self._model
        finish_reason: str | None = None
        usage: Usage | None = None
        try:
            # A plain POST through the shared client: the SDK still authenticates, sends and
            # turns an error status into its exceptions, but skips checking each parameter
            # against its types (half of its CPU per stream), and the chunks are read as
            # plain JSON rather than an SDK model per token.
            response: httpx2.Response = await self._client.post(
                "/chat/completions",
                body=self._body(chat, model),
                cast_to=httpx2.Response,
                stream=True,
            )
            if call is not None:
                call.status = response.status_code
            # Closing the response ends the upstream request, also when the client goes
            # away: the cancellation lands in the `async for` below.
            try:
                async with aclosing(_sse_data(response.aiter_lines())) as chunks:
                    async for chunk in chunks:
                        if chunk.get("error"):  # a provider's mid-stream failure
                            raise _StreamError(chunk["error"])
                        model = chunk.get("model") or model
                        if chunk.get("usage"):
                            usage = Usage.model_validate(chunk["usage"])
                        if not chunk.get("choices"):  # the usage chunk carries no choice
                            continue
                        choice = chunk["choices"][0]
                        if text := (choice.get("delta") or {}).get("content"):
                            yield Delta(text=text)
                        if choice.get("finish_reason") is not None:
                            finish_reason = choice["finish_reason"]
            finally:
                await response.aclose()
        # Errors opening the stream come as openai's errors, while reading it as httpx2's.
        except (openai.APIError, httpx2.HTTPError, httpx2.StreamError) as exc:
            raise self._record(self._translate(exc), exc) from exc
        except _StreamError as exc:
            logger.warning("the provider failed mid-stream: %s", self._redact(exc.message))
            error = InferenceError("upstream_error", "The provider failed to answer.")
            raise self._record(error, exc) from exc
        except (ValueError, TypeError, AttributeError, LookupError) as exc:
            # A chunk that is not JSON, or JSON of another shape than a chat completion chunk.
            logger.warning("unreadable chunk from the provider: %s", type(exc).__name__)
            error = InferenceError("upstream_error", "The provider sent an unreadable answer.")
            raise self._record(error, exc) from exc
        yield Done(finish_reason=finish_reason, usage=usage, model=model)

    def _body(self, chat: ChatRequest, model: str) -> dict[str, Any]:
        """The chat completion request, with only the parameters this chat sets."""
        body: dict[str, Any] = {
            "model": model,
            "messages": [message.model_dump() for message in chat.messages],
            "stream": True,
        }
        if self._stream_usage:
            body["stream_options"] = {"include_usage": True}
        if chat.temperature is not None:
            body["temperature"] = chat.temperature
        if chat.max_tokens is not None:
            body[self._max_tokens_param] = chat.max_tokens
        return body

    def _record(self, error: InferenceError, exc: Exception) -> InferenceError:
        call = upstream_call.get()
        if call is not None:
            call.error = error.code
            if isinstance(exc, openai.APIStatusError):
                call.status = exc.status_code
        return error

    def _translate(self, exc: Exception) -> InferenceError:
        logger.warning("upstream request failed: %s", self._redact(str(exc)))
        match exc:
            case openai.RateLimitError():
                return InferenceError(
                    "rate_limited",
                    "The provider is rate limiting requests; retry later.",
                    retry_after=exc.response.headers.get("retry-after"),
                )
            case openai.APITimeoutError() | httpx2.TimeoutException():
                return InferenceError("timeout", "The provider did not answer in time.")
            case openai.APIConnectionError() | httpx2.TransportError():
                return InferenceError(
                    "upstream_unavailable", "The connection to the provider failed or was cut."
                )
            case openai.APIStatusError(status_code=401 | 403):
                return InferenceError("upstream_auth", "The provider refused the API key.")
            case openai.APIStatusError(status_code=400 | 404 | 422):
                # Unknown model, context too long...: the provider's words help the caller.
                return InferenceError("bad_request", self._upstream_message(exc))
            case _:
                return InferenceError("upstream_error", "The provider failed to answer.")

    def _upstream_message(self, exc: openai.APIStatusError) -> str:
        message = exc.body.get("message") if isinstance(exc.body, dict) else None
        if not isinstance(message, str) or not message:
            return "The provider refused the request."
        return self._redact(message)[:500]

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text


def _retry_wait(error: InferenceError, attempt: int) -> float | None:
    """Seconds to wait before the next attempt, or None when retrying would not help."""
    if error.code not in RETRYABLE:
        return None
    if error.retry_after is not None:
        try:
            wait = float(error.retry_after)
        except ValueError:  # an HTTP date: rare, and never short
            return None
        return wait if 0 <= wait <= RETRY_MAX_WAIT else None
    return min(RETRY_MAX_WAIT, 0.25 * 2**attempt)


class _StreamError(Exception):
    """An `{"error": ...}` chunk in place of a completion chunk."""

    def __init__(self, error: object) -> None:
        message = error.get("message") if isinstance(error, dict) else None
        self.message = message if isinstance(message, str) else "no message"
        super().__init__(self.message)


async def _sse_data(lines: AsyncIterator[str]) -> AsyncGenerator[dict[str, Any], None]:
    """The JSON `data` of each Server-Sent Event, up to `[DONE]`; comments and other
    fields are skipped, and data split over several lines is joined as the spec says."""
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
        elif not line and data:
            payload = "\n".join(data)
            data.clear()
            if payload == "[DONE]":
                # Read to the end of the body (it ends here), so the connection is reused.
                async for _ in lines:
                    pass
                return
            chunk = json.loads(payload)
            if not isinstance(chunk, dict):
                raise ValueError("a chunk that is not a JSON object")
            yield chunk
