"""One JSON log line per request, Prometheus metrics, and a request id on every answer.

The log line has the request id, method, route, status, duration, the time to the first
token of a stream, and the provider's status: never a header, a key or a prompt (the
request body is added only at LOG_LEVEL=DEBUG). Metrics are served at GET /metrics (behind
the API key, like every route), and without a key on METRICS_PORT, a port Fly's proxy does
not expose: fly.toml's [metrics] points Fly's Prometheus at it.
"""

import asyncio
import ipaddress
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import SettingError, Settings
from app.counters import COUNTERS, counter_sinks
from app.inference import UpstreamCall, upstream_call
from app.lifecycle import app_settings, lifespan_hooks

logger = logging.getLogger("app.access")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ERROR_CODE = re.compile(rb'event: error\r?\ndata: \{"code":"([a-z_]+)"')
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Logged at DEBUG when they succeed: Fly checks /healthz every few seconds, probes and scrapers the rest."""
DEBUG_BODY_BYTES = 2_048


class Metrics:
    """The app's metrics, in a registry of its own (one per app, so tests can make many)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self.requests = Counter(
            "http_requests",
            "Requests answered, by route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time from the request to the end of its answer (a whole stream for streams).",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=registry,
        )
        self.in_flight = Gauge(
            "http_requests_in_flight", "Requests being answered.", registry=registry
        )
        self.streams = Gauge(
            "sse_streams_in_flight", "Server-Sent Event streams open.", registry=registry
        )
        self.ttft = Histogram(
            "llm_time_to_first_token_seconds",
            "Time from the request to the first `delta` event of a stream.",
            ["route"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
            registry=registry,
        )
        self.upstream_errors = Counter(
            "llm_upstream_errors",
            "Failed calls to the provider, by error code.",
            ["code"],
            registry=registry,
        )
        self.tasks = Gauge(
            "asyncio_tasks",
            "Tasks of the event loop (requests, streams, timers).",
            registry=registry,
        )
        # The events other features report with app.counters.count().
        self.counters = {
            name: Counter(name, help_text, registry=registry)
            for name, help_text in COUNTERS.items()
        }

    def watch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self.tasks.set_function(lambda: len(asyncio.all_tasks(loop)))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON; `extra={"fields": {...}}` adds fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (current := request_id.get()) is not None:
            line["request_id"] = current
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class Observe:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-request-id") or headers.get("fly-request-id") or ""
        rid = given if VALID_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        rid_token = request_id.set(rid)
        call = UpstreamCall()
        call_token = upstream_call.set(call)
        debug = logger.isEnabledFor(logging.DEBUG)
        body = bytearray()
        status = 500
        stream = False
        ttft: float | None = None
        stream_error: str | None = None
        start = time.perf_counter()

        async def watched_receive() -> Message:
            message = await receive()
            if debug and message["type"] == "http.request" and len(body) < DEBUG_BODY_BYTES:
                body.extend(message.get("body", b"")[: DEBUG_BODY_BYTES - len(body)])
            return message

        async def watched_send(message: Message) -> None:
            nonlocal status, stream, ttft, stream_error
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = MutableHeaders(scope=message)
                response_headers["x-request-id"] = rid
                if response_headers.get("content-type", "").startswith("text/event-stream"):
                    stream = True
                    self.metrics.streams.inc()
            elif message["type"] == "http.response.body" and stream:
                chunk: bytes = message.get("body", b"")
                if ttft is None and b"event: delta" in chunk:
                    ttft = time.perf_counter() - start
                if stream_error is None and (found := ERROR_CODE.search(chunk)):
                    stream_error = found.group(1).decode()
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, watched_receive, watched_send)
        finally:
            duration = time.perf_counter() - start
            self.metrics.in_flight.dec()
            if stream:
                self.metrics.streams.dec()
            route = getattr(scope.get("route"), "path", None)
            label = route or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, label, str(status)).inc()
            self.metrics.duration.labels(method, label).observe(duration)
            if ttft is not None:
                self.metrics.ttft.labels(label).observe(ttft)
            if call.error is not None:
                self.metrics.upstream_errors.labels(call.error).inc()
            quiet = scope["path"] in QUIET_PATHS and status < 400
            level = logging.DEBUG if quiet else logging.INFO
            if logger.isEnabledFor(level):
                fields: dict[str, Any] = {
                    "request_id": rid,
                    "method": method,
                    "route": route,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(duration * 1000, 1),
                    "ttft_ms": None if ttft is None else round(ttft * 1000, 1),
                    "stream": stream,
                    "upstream_status": call.status,
                    "upstream_attempts": call.attempts,
                    "error": call.error or stream_error,
                    "key_id": scope["state"].get("api_key_id"),
                }
                if debug and body:
                    fields["body"] = body.decode(errors="replace")
                logger.log(level, "request", extra={"fields": fields})
            upstream_call.reset(call_token)
            request_id.reset(rid_token)


async def _handle_scrape(
    metrics: Metrics, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """A minimal HTTP/1.1 answer to Prometheus: GET /metrics, one request per connection."""
    try:
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
        if head.startswith((b"GET /metrics ", b"GET /metrics?")):
            status, content_type, payload = (
                b"200 OK",
                CONTENT_TYPE_LATEST.encode(),
                metrics.render(),
            )
        else:
            status, content_type, payload = b"404 Not Found", b"text/plain", b"not found\n"
        writer.write(
            b"HTTP/1.1 "
            + status
            + b"\r\nContent-Type: "
            + content_type
            + b"\r\nContent-Length: "
            + str(len(payload)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + payload
        )
        await writer.drain()
    except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")


def check_metrics_host(host: str) -> None:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not HOSTNAME.match(host):
            raise SettingError(
                "METRICS_HOST: takes an address or a host name, such as 0.0.0.0 or ::"
            ) from None


def setup(app: FastAPI) -> None:
    check_metrics_host(app_settings(app).metrics_host)
    metrics = Metrics()
    app.state.metrics = metrics
    app.add_middleware(Observe, metrics=metrics)
    counter_sinks(app).append(lambda name: metrics.counters[name].inc())

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def observe(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
        metrics.watch_loop(asyncio.get_running_loop())
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler:  # the app's own, not a test runner's
                handler.setFormatter(JsonFormatter())
        # The JSON line replaces uvicorn's access log.
        logging.getLogger("uvicorn.access").disabled = True
        server = None
        if settings.metrics_port is not None:
            server = await asyncio.start_server(
                lambda r, w: _handle_scrape(metrics, r, w),
                settings.metrics_host,
                settings.metrics_port,
                limit=8_192,
            )
            logger.info("metrics on %s:%d/metrics", settings.metrics_host, settings.metrics_port)
        try:
            yield
        finally:
            if server is not None:
                server.close()
                await server.wait_closed()

    lifespan_hooks(app).append(observe)
