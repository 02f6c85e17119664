"""One JSON log line per request (never a header or a key; the body only at DEBUG), a request id
on every answer, and Prometheus metrics at GET /metrics and, without a key, on METRICS_PORT."""

import asyncio
import ipaddress
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, MetricsHandler
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import SettingError, Settings
from app.inference import PROVIDER_ERROR_CODES, UpstreamCall, upstream_call

logger = logging.getLogger("app.access")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Logged at DEBUG when they succeed: Fly checks /healthz every few seconds.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
DEBUG_BODY_BYTES = 2_048


class Metrics(CollectorRegistry):
    """The app's own registry (tests make many apps), with the metrics the middleware records."""

    def __init__(self) -> None:
        super().__init__()
        self.register(REGISTRY)  # the process's metrics, and the counters features declare there
        self.requests = Counter(
            "http_requests", "Requests answered.", ["method", "route", "status"], registry=self
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to the end of the answer, a whole stream for streams.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self,
        )
        self.in_flight = Gauge("http_requests_in_flight", "Open requests.", registry=self)
        self.streams = Gauge("sse_streams_in_flight", "SSE streams open.", registry=self)
        self.ttft = Histogram(
            "llm_time_to_first_token_seconds",
            "Time to the first token of a stream.",
            ["route"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
            registry=self,
        )
        self.upstream_errors = Counter(
            "llm_upstream_errors", "Failed calls to the provider.", ["code"], registry=self
        )
        self.tasks = Gauge("asyncio_tasks", "Tasks of the event loop.", registry=self)


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
    """Logs and measures each request, with the metrics the lifespan made (`app.state.metrics`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics: Metrics = scope["app"].state.metrics
        headers = Headers(scope=scope)
        given = headers.get("x-request-id") or headers.get("fly-request-id") or ""
        rid = given if VALID_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        rid_token = request_id.set(rid)
        call = UpstreamCall()
        call_token = upstream_call.set(call)
        body = bytearray()
        status = 500
        stream = False
        start = time.perf_counter()

        async def watched_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and logger.isEnabledFor(logging.DEBUG):
                body.extend(message.get("body", b"")[: DEBUG_BODY_BYTES - len(body)])
            return message

        async def watched_send(message: Message) -> None:
            nonlocal status, stream
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = MutableHeaders(scope=message)
                response_headers["x-request-id"] = rid
                if response_headers.get("content-type", "").startswith("text/event-stream"):
                    stream = True
                    metrics.streams.inc()
            await send(message)

        try:
            with metrics.in_flight.track_inprogress():
                await self.app(scope, watched_receive, watched_send)
        finally:
            duration = time.perf_counter() - start
            ttft = None if call.first_token is None else call.first_token - start
            if stream:
                metrics.streams.dec()
            route = getattr(scope.get("route"), "path", None)
            label = route or "unmatched"
            method = scope["method"]
            metrics.requests.labels(method, label, str(status)).inc()
            metrics.duration.labels(method, label).observe(duration)
            if ttft is not None:
                metrics.ttft.labels(label).observe(ttft)
            if call.error in PROVIDER_ERROR_CODES:
                metrics.upstream_errors.labels(call.error).inc()
            level = logging.DEBUG if scope["path"] in QUIET_PATHS and status < 400 else logging.INFO
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
                    "error": call.error,
                    "key_id": scope["state"].get("api_key_id"),
                }
                if body:
                    fields["body"] = body.decode(errors="replace")
                logger.log(level, "request", extra={"fields": fields})
            upstream_call.reset(call_token)
            request_id.reset(rid_token)


def check_metrics_host(settings: Settings) -> None:
    try:
        ipaddress.ip_address(settings.metrics_host)
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}", settings.metrics_host):
            raise SettingError(
                "METRICS_HOST: takes an address or a host name, such as 0.0.0.0 or ::"
            ) from None


def middleware(settings: Settings) -> Middleware:
    return Middleware(Observe)


class MetricsOnly(MetricsHandler):
    """prometheus_client's handler (which logs no scrape), at GET /metrics only."""

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/metrics":
            super().do_GET()
        else:
            self.send_error(404)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> ThreadingHTTPServer:
    # Made per call: the address family (IPv4 or IPv6) is the host's.
    class Server(ThreadingHTTPServer):
        address_family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]

    server = Server((host, port), MetricsOnly.factory(registry))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[Metrics]:
    metrics = Metrics()
    loop = asyncio.get_running_loop()
    metrics.tasks.set_function(lambda: len(asyncio.all_tasks(loop)))
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:  # the app's own, not a test runner's
            handler.setFormatter(JsonFormatter())
    # The JSON line replaces uvicorn's access log.
    logging.getLogger("uvicorn.access").disabled = True
    server = None
    if (port := settings.metrics_port) is not None:
        server = serve_metrics(metrics, settings.metrics_host, port)
        logger.info("metrics on %s:%d/metrics", settings.metrics_host, port)
    try:
        yield metrics
    finally:
        if server is not None:
            await asyncio.to_thread(server.shutdown)
            server.server_close()
