"""Inference providers, any OpenAI-compatible API or an offline mock: each streams `Delta`
events, then one `Done`, and turns every upstream failure into an `InferenceError`."""

import asyncio
import logging
import re
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

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


class ProviderFailure(NamedTuple):
    code: ErrorCode
    message: str
    raised: tuple[type[Exception], ...] = (openai.APIStatusError,)
    statuses: tuple[int, ...] = ()  # the provider's HTTP statuses it covers; none: any
    retryable: bool = False  # another attempt may succeed (before the first token only)
    retry_after: bool = False  # the provider's Retry-After goes on to the client
    provider_message: bool = False  # the provider's own words (redacted) help the caller


# The first row that matches wins. A stream read past the SDK's errors can raise httpx2's.
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
PROVIDER_ERROR_CODES = frozenset(failure.code for failure in PROVIDER_FAILURES)


@dataclass
class UpstreamCall:
    """What the provider did for the current request, for logs and metrics (when they ask)."""

    attempts: int = 0
    status: int | None = None  # of the provider's last answer; None if there was none
    error: ErrorCode | None = None  # of the `error` the route answered or ended its stream with
    first_token: float | None = None  # `time.perf_counter()` when the first token was sent


upstream_call: ContextVar[UpstreamCall | None] = ContextVar("upstream_call", default=None)


def note_first_token() -> None:
    if (call := upstream_call.get()) is not None and call.first_token is None:
        call.first_token = time.perf_counter()


def note_error(code: ErrorCode) -> None:
    if (call := upstream_call.get()) is not None:
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
    """The failure as clients are told of it, with `secret` (the server's key) redacted."""
    logger.warning("upstream request failed: %s", redact(str(exc), secret))
    status = getattr(exc, "status_code", None)
    failure = next(
        row
        for row in PROVIDER_FAILURES
        if isinstance(exc, row.raised) and (not row.statuses or status in row.statuses)
    )
    error = InferenceError(failure.code, failure.message, retryable=failure.retryable)
    note_error(error.code)
    if isinstance(exc, openai.APIStatusError):
        if (call := upstream_call.get()) is not None:
            call.status = exc.status_code
        said = exc.body.get("message") if isinstance(exc.body, dict) else None
        if failure.provider_message and isinstance(said, str) and said:
            error.message = redact(said, secret)[:500]
        if failure.retry_after:
            error.retry_after = exc.response.headers.get("retry-after")
    return error


class ChatProvider(Protocol):
    def stream(self, chat: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Yields `Delta` events, then one `Done`; raises `InferenceError`."""


async def complete(provider: ChatProvider, chat: ChatRequest) -> ChatResponse:
    """The whole answer at once, streamed even so: the read timeout bounds each gap, not the whole."""
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

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def stream(self, chat: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        prompt = next((m.content for m in reversed(chat.messages) if m.role == "user"), "")
        words = re.findall(r"\S+\s*", prompt)
        limit = len(words) if chat.max_tokens is None else min(chat.max_tokens, len(words))
        for word in words[:limit]:
            await asyncio.sleep(self._settings.mock_token_delay)
            yield Delta(text=word)
        prompt_tokens = sum(len(m.content.split()) for m in chat.messages)
        total = prompt_tokens + limit
        usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=limit, total_tokens=total)
        finish = "stop" if limit == len(words) else "length"
        yield Done(finish_reason=finish, usage=usage, model=chat.model or self._settings.model)


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
        self._settings = settings
        self._secret = settings.api_key.get_secret_value() if settings.api_key else None

    async def stream(self, chat: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """One attempt, and more while nothing was sent yet and a retry may help."""
        retries = self._settings.max_retries
        for attempt in range(retries + 1):
            started = False
            try:
                # Closed now, not by the garbage collector: that ends the upstream response.
                async with aclosing(self._attempt(chat)) as events:
                    async for event in events:
                        started = True
                        yield event
                return
            except InferenceError as exc:
                wait = _retry_wait(exc, attempt)
                if started or attempt == retries or wait is None:
                    raise
                logger.info("retrying in %.2f s after %s", wait, exc.code)
                await asyncio.sleep(wait)

    async def _attempt(self, chat: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        if (call := upstream_call.get()) is not None:
            call.attempts += 1
        model = chat.model or self._settings.model
        body: dict[str, Any] = {
            "model": model,
            "messages": [message.model_dump() for message in chat.messages],
            "stream": True,
        }
        if self._settings.stream_usage:
            body["stream_options"] = {"include_usage": True}
        if chat.temperature is not None:
            body["temperature"] = chat.temperature
        if chat.max_tokens is not None:
            body[self._settings.max_tokens_param] = chat.max_tokens
        finish_reason: str | None = None
        usage: Usage | None = None
        try:
            # A plain POST: the SDK still authenticates, raises its errors and reads the stream,
            # but checks no parameter against its types, and a chunk stays plain JSON.
            stream = await self._client.post(
                "/chat/completions",
                body=body,
                cast_to=object,
                stream=True,
                stream_cls=AsyncStream[object],
            )
            if call is not None:
                call.status = stream.response.status_code
            # Leaving the block, also on the client's cancellation, ends the upstream request.
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


def _retry_wait(error: InferenceError, attempt: int) -> float | None:
    """Seconds to wait before the next attempt, or None when retrying would not help."""
    if not error.retryable:
        return None
    if error.retry_after is None:
        return min(RETRY_MAX_WAIT, 0.25 * 2.0**attempt)
    try:
        wait = float(error.retry_after)
    except ValueError:  # an HTTP date: rare, and never short
        return None
    return wait if 0 <= wait <= RETRY_MAX_WAIT else None
