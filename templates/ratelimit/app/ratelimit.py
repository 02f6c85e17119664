"""Rate limits per API key, or per client address, with the `limits` library.

Every request counts once, a stream included, whatever its length. The count lives in
this process's memory (one Machine), or in Redis when REDIS_URL is set, so that all
Machines share it. Past the limit: 429 with Retry-After. If Redis fails, requests pass
(and a warning is logged): the limit protects the provider budget, it must not take the
API down.
"""

import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.lifecycle import lifespan_hooks
from app.schemas import ErrorDetail, ErrorResponse

logger = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc"})


def parse_limits(text: str) -> list[RateLimitItem]:
    """`RATE_LIMIT`, e.g. "60/minute" or "5/second;100/hour"; "off" for none."""
    if text.strip().lower() == "off":
        return []
    try:
        return parse_many(text)
    except ValueError as exc:
        raise RuntimeError(f"RATE_LIMIT: {text!r} is not a limit such as 60/minute") from exc


def open_storage(settings: Settings) -> Storage:
    if settings.redis_url is None:
        return MemoryStorage()
    url = settings.redis_url.get_secret_value()
    if not url.startswith(("redis://", "rediss://")):
        raise RuntimeError("REDIS_URL must start with redis:// or rediss://")
    # The redis-py client, with short timeouts: a slow Redis must not hold requests.
    return RedisStorage(
        f"async+{url}",
        implementation="redispy",
        wrap_exceptions=True,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
    )


def client_id(scope: Scope, headers: Headers) -> str:
    """Who is asking: the API key when the request has one, else the client's address
    (Fly's proxy puts it in Fly-Client-IP), else the peer's."""
    state: dict[str, Any] = scope.get("state", {})
    if key := state.get("api_key_id"):
        return f"key:{key}"
    if address := headers.get("fly-client-ip"):
        return f"ip:{address}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class Limiter:
    """The limits and their storage, opened at startup."""

    def __init__(self) -> None:
        self.limits: list[RateLimitItem] = []
        self.strategy: FixedWindowRateLimiter | None = None
        self._warned_at = 0.0

    async def start(self, settings: Settings) -> None:
        self.limits = parse_limits(settings.rate_limit)
        if not self.limits:
            logger.warning("RATE_LIMIT=off: requests are not limited")
            return
        storage = open_storage(settings)
        self.strategy = FixedWindowRateLimiter(storage)
        if settings.redis_url is not None and not await storage.check():
            logger.warning(
                "Redis at REDIS_URL does not answer: requests pass unlimited until it does"
            )

    async def hit(self, who: str) -> int | None:
        """Counts a request: None when it may go on, else the seconds until it may."""
        if self.strategy is None:
            return None
        try:
            for item in self.limits:
                if not await self.strategy.hit(item, who):
                    stats = await self.strategy.get_window_stats(item, who)
                    return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception as exc:  # the storage failed: let the request through
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                logger.warning("rate limit storage failed, not limiting: %s", type(exc).__name__)
        return None


class RateLimit:
    def __init__(self, app: ASGIApp, *, limiter: Limiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or scope["path"] in EXEMPT_PATHS
            or scope.get("method") == "OPTIONS"
        ):
            await self.app(scope, receive, send)
            return
        retry_after = await self.limiter.hit(client_id(scope, Headers(scope=scope)))
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})
            return
        detail = ErrorDetail(
            code="rate_limited", message=f"Too many requests; retry in {retry_after} s."
        )
        response = JSONResponse(
            ErrorResponse(error=detail).model_dump(),
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)


TOO_MANY = {
    "description": "Rate limited: too many requests for this key or address; see Retry-After",
    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}


def setup(app: FastAPI) -> None:
    limiter = Limiter()
    app.add_middleware(RateLimit, limiter=limiter)

    @asynccontextmanager
    async def start(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
        await limiter.start(settings)
        yield

    lifespan_hooks(app).append(start)
    previous = app.openapi

    def openapi() -> dict[str, Any]:
        schema = previous()
        for path, operations in schema.get("paths", {}).items():
            if path not in EXEMPT_PATHS:
                for operation in operations.values():
                    operation.setdefault("responses", {}).setdefault("429", TOO_MANY)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
