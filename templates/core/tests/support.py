"""Helpers for the tests: settings, an SSE parser, uvicorn servers run in a thread, and a
way to start an app's graceful shutdown."""

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from app.config import Settings
from app.shutdown import Drain

TEST_KEY = "sk-test-0123456789abcdef"


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test: explicit values, never the developer's `.env`."""
    values: dict[str, Any] = {
        "provider": "mock",
        "model": "test-model",
        "mock_token_delay": 0,
        "connect_timeout": 2,
        "read_timeout": 5,
        "max_retries": 0,
        "stream_usage": True,
        "max_tokens_param": "max_tokens",
        "fly_region": None,
    }
    return Settings(_env_file=None, **(values | overrides))


@dataclass
class Event:
    """One Server-Sent Event, or a comment such as the keep-alive `: ping`."""

    event: str | None = None
    data: str | None = None
    comment: str | None = None

    def json(self) -> Any:
        assert self.data is not None
        return json.loads(self.data)


def iter_events(lines: Iterable[str]) -> Iterator[Event]:
    """Parses SSE lines as they come (`response.iter_lines()`), event by event."""
    current = Event()
    for line in lines:
        if not line:
            if current != Event():
                yield current
            current = Event()
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "":
            current.comment = value
        elif field == "event":
            current.event = value
        elif field == "data":
            current.data = value if current.data is None else f"{current.data}\n{value}"
    if current != Event():
        yield current


def parse_events(body: str) -> list[Event]:
    return list(iter_events(body.splitlines()))


def bound_socket() -> socket.socket:
    """A socket bound to a free port of 127.0.0.1, for `serve()`: while it is open, no other
    free port that a test asks for can be this one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(
    app: ASGIApp, *, lifespan: Literal["on", "off"] = "on", sock: socket.socket | None = None
) -> Iterator[str]:
    """Serves `app` with uvicorn on 127.0.0.1 in a thread; yields its base URL once it listens.

    `sock`: the socket to serve on (from `bound_socket()`); by default a new one."""
    sock = sock or bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan=lifespan, log_config=None, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # poll for readiness, bounded
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class Stopping:
    """A live app whose graceful shutdown the test starts, as the stop signal would."""

    def __init__(self, app: FastAPI, url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.url, self.loop = app, url, loop

    def begin(self) -> None:
        drain: Drain = self.app.state.drain
        self.loop.call_soon_threadsafe(drain.begin)
