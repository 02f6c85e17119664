"""A real uvicorn server on 127.0.0.1: incremental delivery, keep-alive pings, disconnects."""

from collections.abc import Iterator

import fastapi.routing
import httpx2
import pytest
from fastapi import FastAPI

from tests.fake_upstream import FakeUpstream
from tests.support import iter_events, serve

CHAT = {"messages": [{"role": "user", "content": "hello there"}]}


@pytest.fixture
def live_url(upstream_app: FastAPI) -> Iterator[str]:
    with serve(upstream_app) as url:
        yield url


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=5) as client:
        yield client


def test_deltas_arrive_while_the_upstream_is_still_answering(
    live_url: str, http: httpx2.Client, upstream: FakeUpstream
) -> None:
    upstream.script.hold_after = 1
    with http.stream("POST", f"{live_url}/v1/chat/stream", json=CHAT) as response:
        events = iter_events(response.iter_lines())
        first = next(events)
        assert (first.event, first.json()) == ("delta", {"text": "Hello"})
        upstream.release.set()  # the rest of the answer only exists from now on
        rest = [event.event for event in events]
    assert rest == ["delta", "delta", "done"]


def test_pings_keep_a_quiet_stream_alive(
    live_url: str, http: httpx2.Client, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.05)
    upstream.script.hold_after = 0
    with http.stream("POST", f"{live_url}/v1/chat/stream", json=CHAT) as response:
        events = iter_events(response.iter_lines())
        first = next(events)
        assert first.comment == "ping"
        upstream.release.set()
        rest = [event.event for event in events if event.comment is None]
    assert rest == ["delta", "delta", "delta", "done"]


def test_a_client_disconnect_closes_the_upstream_request(
    live_url: str, http: httpx2.Client, upstream: FakeUpstream
) -> None:
    upstream.script.hold_after = 1  # never released: only a disconnect ends this answer
    with http.stream("POST", f"{live_url}/v1/chat/stream", json=CHAT) as response:
        first = next(iter_events(response.iter_lines()))
        assert first.event == "delta"
    # Leaving the block closed the connection; the app must close its upstream request.
    assert upstream.disconnected.wait(timeout=5)
    assert http.get(f"{live_url}/healthz").status_code == 200
