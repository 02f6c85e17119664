"""Upstream failures: bounded retries before the first token only, and every failure ends
in a well-formed error event or JSON error."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.fake_upstream import FakeUpstream
from tests.support import parse_events

CHAT = {"messages": [{"role": "user", "content": "hello there"}]}


def events_of(client: TestClient) -> list[tuple[str | None, dict[str, Any]]]:
    response = client.post("/v1/chat/stream", json=CHAT)
    assert response.status_code == 200
    return [(event.event, event.json()) for event in parse_events(response.text)]


@pytest.fixture
def retrying(upstream_settings: Settings, upstream: FakeUpstream) -> TestClient:
    return TestClient(create_app(upstream_settings.model_copy(update={"max_retries": 1})))


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_before_the_first_token_is_retried_once(
    retrying: TestClient, upstream: FakeUpstream, status: int
) -> None:
    upstream.script.status = status
    upstream.script.failures = 1
    with retrying as client:
        assert [name for name, _ in events_of(client)] == ["delta", "delta", "delta", "done"]
    assert len(upstream.requests) == 2


def test_retries_are_bounded(retrying: TestClient, upstream: FakeUpstream) -> None:
    upstream.script.status = 503
    with retrying as client:
        [(name, error)] = events_of(client)
    assert (name, error["code"]) == ("error", "upstream_error")
    assert len(upstream.requests) == 2  # MAX_RETRIES=1: one retry, then the error


def test_a_long_retry_after_goes_to_the_client(
    retrying: TestClient, upstream: FakeUpstream
) -> None:
    upstream.script.status = 429
    upstream.script.retry_after = "30"
    with retrying as client:
        response = client.post("/v1/chat", json=CHAT)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert len(upstream.requests) == 1


def test_a_drop_before_the_first_token_is_retried(
    retrying: TestClient, upstream: FakeUpstream
) -> None:
    upstream.script.drop_after = 0
    upstream.script.failures = 1
    with retrying as client:
        assert events_of(client)[-1][0] == "done"
    assert len(upstream.requests) == 2


def test_a_drop_after_the_first_token_is_never_retried(
    retrying: TestClient, upstream: FakeUpstream
) -> None:
    upstream.script.drop_after = 1
    upstream.script.failures = 1
    with retrying as client:
        events = events_of(client)
    assert events[0] == ("delta", {"text": "Hello"})
    assert events[1][0] == "error"
    assert events[1][1]["code"] == "upstream_unavailable"
    assert len(upstream.requests) == 1


@pytest.mark.parametrize("after", [0, 2])
def test_a_malformed_chunk_ends_the_stream_with_an_error_event(
    upstream_client: TestClient, upstream: FakeUpstream, after: int
) -> None:
    upstream.script.malformed_after = after
    events = events_of(upstream_client)
    assert [name for name, _ in events] == ["delta"] * after + ["error"]
    assert events[-1][1] == {
        "code": "upstream_error",
        "message": "The provider sent an unreadable answer.",
    }
    assert upstream_client.post("/v1/chat", json=CHAT).status_code == 502
    upstream.script.malformed_after = None
    assert events_of(upstream_client)[-1][0] == "done"  # and it keeps serving


def test_an_error_chunk_mid_stream_ends_it_with_an_error_event(
    upstream_client: TestClient, upstream: FakeUpstream
) -> None:
    upstream.script.error_after = 1
    upstream.script.message = "overloaded; request id 42"
    events = events_of(upstream_client)
    assert events == [
        ("delta", {"text": "Hello"}),
        ("error", {"code": "upstream_error", "message": "The provider failed to answer."}),
    ]


def test_comments_between_chunks_are_skipped(
    upstream_client: TestClient, upstream: FakeUpstream
) -> None:
    upstream.script.comments = True
    events = events_of(upstream_client)
    assert [data.get("text") for name, data in events if name == "delta"] == [
        "Hello",
        " from",
        " upstream",
    ]
    assert events[-1][0] == "done"


def test_a_slow_first_token_times_out(upstream_settings: Settings, upstream: FakeUpstream) -> None:
    upstream.script.hold_after = 0  # never released: no token ever comes
    settings = upstream_settings.model_copy(update={"read_timeout": 0.2, "max_retries": 1})
    with TestClient(create_app(settings)) as client:
        [(name, error)] = events_of(client)
    assert (name, error["code"]) == ("error", "timeout")
    assert len(upstream.requests) == 1  # a timeout is not retried: it would double the wait
