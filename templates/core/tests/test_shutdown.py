"""Graceful shutdown: new chats are refused, open streams finish or end with `shutting_down`."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.lifecycle import lifespan_hooks
from app.main import create_app
from app.shutdown import Drain
from tests.fake_upstream import FakeUpstream
from tests.support import iter_events, serve

CHAT = {"messages": [{"role": "user", "content": "hello there"}]}


class Stopping:
    """A live app whose graceful shutdown the test starts, as the stop signal would."""

    def __init__(self, app: FastAPI, url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.url, self.loop = app, url, loop

    def begin(self) -> None:
        drain: Drain = self.app.state.drain
        self.loop.call_soon_threadsafe(drain.begin)


@pytest.fixture
def stopping(upstream_settings: Settings, upstream: FakeUpstream) -> Iterator[Stopping]:
    app = create_app(upstream_settings.model_copy(update={"shutdown_grace": 0.5}))
    loops: list[asyncio.AbstractEventLoop] = []

    @asynccontextmanager
    async def remember_loop(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
        loops.append(asyncio.get_running_loop())
        yield

    lifespan_hooks(app).append(remember_loop)
    with serve(app) as url:
        yield Stopping(app, url, loops[0])


def test_an_open_stream_ends_with_a_final_event_at_the_deadline(
    stopping: Stopping, upstream: FakeUpstream
) -> None:
    upstream.script.hold_after = 1  # never released
    with (
        httpx2.Client(timeout=5) as http,
        http.stream("POST", f"{stopping.url}/v1/chat/stream", json=CHAT) as response,
    ):
        events = iter_events(response.iter_lines())
        assert next(events).event == "delta"
        stopping.begin()
        last = next(event for event in events if event.comment is None)
        assert last.event == "error"
        assert last.json()["code"] == "shutting_down"
        assert list(events) == []
        refused = http.post(f"{stopping.url}/v1/chat/stream", json=CHAT)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "shutting_down"
    assert refused.headers["retry-after"] == "1"
    assert upstream.disconnected.wait(timeout=5)  # the upstream request was closed


def test_a_stream_that_finishes_within_the_grace_ends_normally(
    stopping: Stopping, upstream: FakeUpstream
) -> None:
    upstream.script.hold_after = 1
    with (
        httpx2.Client(timeout=5) as http,
        http.stream("POST", f"{stopping.url}/v1/chat/stream", json=CHAT) as response,
    ):
        events = iter_events(response.iter_lines())
        assert next(events).event == "delta"
        stopping.begin()
        upstream.release.set()
        rest = [event.event for event in events if event.comment is None]
    assert rest == ["delta", "delta", "done"]
