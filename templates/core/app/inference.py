"""Inference providers: any OpenAI-compatible API, or an offline mock.

A provider streams `Delta` events and ends with one `Done`. Every failure of the
upstream API comes out as an `InferenceError`: a stable code and a message that
is safe to show to clients (no stack trace, no key).
"""

import asyncio
import logging
import re
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2
import openai
from openai import AsyncOpenAI, AsyncStream

from app.config import Settings
from app.schemas import (
    ERROR_STATUS,
    ChatRequest,
    ChatResponse,
    Delta,
    Done,
    ErrorCode,
    ErrorDetail,
    Usage,
)

logger = logging.getLogger(__name__)

StreamEvent = Delta | Done

# A failed attempt is retried (up to MAX_RETRIES) only while no token reached the client, and
# only when waiting is short: a longer Retry-After goes to the client as a 429.
RETRY_MAX_WAIT = 4.0


@dataclass(frozen=True)
class ProviderFailure:
    """How clients are told of one kind of failure of the provider."""

    code: ErrorCode
    message: str
    raised: tuple[type[Exception], ...] = (openai.APIStatusError,)
    statuses: tuple[int, ...] = ()  # the provider's HTTP statuses it covers; none: any
    retryable: bool = False  # another attempt may succeed (before the first token only)
    retry_after: bool = False  # the provider's Retry-After goes on to the client
    provider_message: bool = False  # the provider's own words (redacted) help the caller

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]

    def matches(self, exc: Exception) -> bool:
        status = getattr(exc, "status_code", None)
        return isinstance(exc, self.raised) and (not self.statuses or status in self.statuses)


# The first row that matches wins. The SDK raises its own errors, but a stream read past its
# end or a response read raw can still raise httpx2's.
PROVIDER_FAILURES = (
    ProviderFailure(
        "rate_limited",
        "The provider is rate limiting requests; retry later.",
        statuses=(429,),
        retryable=True,
        retry_after=True,
    ),
    # Not retried: it would double the wait.
    ProviderFailure(
        "timeout",
        "The provider did not answer in time.",
        (openai.APITimeoutError, httpx2.TimeoutException),
    ),
    ProviderFailure(
        "upstream_unavailable",
        "The connection to the provider failed or was cut.",
        (openai.APIConnectionError, httpx2.TransportError),
        retryable=True,
    ),
    ProviderFailure(
        "upstream_auth", "The provider refused the server's API key.", statuses=(401, 403)
    ),
    # Unknown model, context too long...
    ProviderFailure(
        "bad_request",
        "The provider refused the request.",
        statuses=(400, 404, 422),
        provider_message=True,
    ),
    # A chunk that is not JSON, or JSON of another shape than a chat completion chunk.
    ProviderFailure(
        "upstream_error",
        "The provider sent an unreadable answer.",
        (ValueError, TypeError, AttributeError, LookupError),
        retryable=True,
    ),
    # Any other status, an `error` chunk mid-stream, a broken stream.
    ProviderFailure(
        "upstream_error",
        "The provider failed to answer.",
        (openai.APIError, httpx2.HTTPError, httpx2.StreamError),
        retryable=True,
    ),
)
UPSTREAM_ERRORS = tuple({kind for failure in PROVIDER_FAILURES for kind in failure.raised})
"""Every exception the table knows: what a call to the provider may raise."""
PROVIDER_ERROR_CODES = frozenset(failure.code for failure in PROVIDER_FAILURES)


@dataclass
class UpstreamCall:
    """What the provider did for the current request, for logs and metrics (when they ask)."""

    attempts: int = 0
    status: int | None = None
    """HTTP status of the provider's last answer; None before one or when the connection failed."""
    error: ErrorCode | None = None
    """The code of the `error` the route answered or ended its stream with."""
    first_token: float | None = None
    """`time.perf_counter()` when the route sent the first token."""


upstream_call: ContextVar[UpstreamCall | None] = ContextVar("upstream_call", default=None)


def note_first_token() -> None:
    """Records, once per request, that the route is sending its first token."""
    call = upstream_call.get()
    if call is not None and call.first_token is None:
        call.first_token = time.perf_counter()


def note_error(code: ErrorCode) -> None:
    """Records the code of the `error` a route sends (a stream's last event, or an answer)."""
    call = upstream_call.get()
    if call is not None:
        call.error = code


class InferenceError(Exception):
    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        retry_after: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.retry_after = retry_after
        self.retryable = retryable

    @property
    def status_code(self) -> int:
        return ERROR_STATUS[self.code]

    def detail(self) -> ErrorDetail:
        return ErrorDetail(code=self.code, message=self.message)


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "[redacted]") if secret else text


def provider_error(exc: Exception, secret: str | None) -> InferenceError:
    """A failure of the provider as clients are told of it (PROVIDER_FAILURES), recorded for
    the request; `secret`, the server's key, is redacted from what the provider said."""
    logger.warning("upstream request failed: %s", redact(str(exc), secret))
    failure = next(row for row in PROVIDER_FAILURES if row.matches(exc))
    answer = exc if isinstance(exc, openai.APIStatusError) else None
    message = failure.message
    if failure.provider_message and answer is not None:
        said = answer.body.get("message") if isinstance(answer.body, dict) else None
        if isinstance(said, str) and said:
            message = redact(said, secret)[:500]
    retry_after = None
    if failure.retry_after and answer is not None:
        retry_after = answer.response.headers.get("retry-after")
    error = InferenceError(
        failure.code, message, retry_after=retry_after, retryable=failure.retryable
    )
    if (call := upstream_call.get()) is not None:
        call.error = error.code
        if answer is not None:
            call.status = answer.status_code
    return error


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
        if (call := upstream_call.get()) is not None:
            call.attempts += 1
        model = chat.model or self._model
        finish_reason: str | None = None
        usage: Usage | None = None
        try:
            # A plain POST through the shared client: the SDK still authenticates, sends,
            # raises its errors and reads the stream, but skips checking each parameter
            # against its types, and a chunk stays plain JSON rather than an SDK model.
            stream = await self._client.post(
                "/chat/completions",
                body=self._body(chat, model),
                cast_to=object,
                stream=True,
                stream_cls=AsyncStream[object],
            )
            if call is not None:
                call.status = stream.response.status_code
            # Leaving the block ends the upstream request, also when the client goes away:
            # the cancellation lands in the `async for`.
            async with stream:
                async for chunk in stream:
                    if not isinstance(chunk, dict):
                        raise TypeError("a chunk that is not a JSON object")
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
        except UPSTREAM_ERRORS as exc:
            raise provider_error(exc, self._secret) from exc
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


def _retry_wait(error: InferenceError, attempt: int) -> float | None:
    """Seconds to wait before the next attempt, or None when retrying would not help."""
    if not error.retryable:
        return None
    if error.retry_after is not None:
        try:
            wait = float(error.retry_after)
        except ValueError:  # an HTTP date: rare, and never short
            return None
        return wait if 0 <= wait <= RETRY_MAX_WAIT else None
    return min(RETRY_MAX_WAIT, 0.25 * 2.0**attempt)
