"""The OpenAI-compatible path, against the fake upstream: requests sent, errors mapped."""

import time
from typing import Any, ClassVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.inference import UpstreamCall, upstream_call
from app.main import create_app
from tests.fake_upstream import FakeUpstream
from tests.support import TEST_KEY, make_settings, parse_events

CHAT = {"messages": [{"role": "user", "content": "hello there"}]}


def stream_events(client: TestClient) -> list[tuple[str | None, dict[str, Any]]]:
    response = client.post("/v1/chat/stream", json=CHAT)
    assert response.status_code == 200
    return [(event.event, event.json()) for event in parse_events(response.text)]


def test_stream_relays_deltas_and_usage(
    upstream_client: TestClient, upstream: FakeUpstream
) -> None:
    events = stream_events(upstream_client)

    assert events == [
        ("delta", {"text": "Hello"}),
        ("delta", {"text": " from"}),
        ("delta", {"text": " upstream"}),
        (
            "done",
            {
                "finish_reason": "stop",
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
                "model": "test-model",
            },
        ),
    ]
    [request] = upstream.requests
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert request.body["model"] == "test-model"
    assert request.body["messages"] == CHAT["messages"]
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


def test_request_options_are_forwarded(upstream_client: TestClient, upstream: FakeUpstream) -> None:
    body = CHAT | {"model": "picked-model", "temperature": 0.5, "max_tokens": 7}
    answer = upstream_client.post("/v1/chat", json=body).json()

    assert answer["model"] == "picked-model"
    sent = upstream.requests[0].body
    assert (sent["model"], sent["temperature"], sent["max_tokens"]) == ("picked-model", 0.5, 7)
    assert "max_completion_tokens" not in sent


def test_max_completion_tokens_and_no_usage_when_configured(
    upstream_settings: Settings, upstream: FakeUpstream
) -> None:
    settings = upstream_settings.model_copy(
        update={"max_tokens_param": "max_completion_tokens", "stream_usage": False}
    )
    with TestClient(create_app(settings)) as client:
        done = stream_events(client)[-1]
        client.post("/v1/chat", json=CHAT | {"max_tokens": 7})

    assert done == ("done", {"finish_reason": "stop", "usage": None, "model": "test-model"})
    assert "stream_options" not in upstream.requests[0].body
    assert upstream.requests[1].body["max_completion_tokens"] == 7
    assert "max_tokens" not in upstream.requests[1].body


def test_chat_joins_the_stream(upstream_client: TestClient) -> None:
    response = upstream_client.post("/v1/chat", json=CHAT)
    assert response.status_code == 200
    assert response.json() == {
        "text": "Hello from upstream",
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
        "model": "test-model",
    }


@pytest.mark.parametrize(
    ("status", "code", "http_status"),
    [
        (429, "rate_limited", 429),
        (400, "bad_request", 400),
        (401, "upstream_auth", 502),
        (404, "bad_request", 400),
        (500, "upstream_error", 502),
        (503, "upstream_error", 502),
    ],
)
def test_upstream_errors_are_mapped(
    upstream_client: TestClient, upstream: FakeUpstream, status: int, code: str, http_status: int
) -> None:
    upstream.script.status = status
    upstream.script.retry_after = "7"
    upstream.script.message = f"refused, key {TEST_KEY}"

    [(name, error)] = stream_events(upstream_client)
    assert name == "error"
    assert error["code"] == code

    response = upstream_client.post("/v1/chat", json=CHAT)
    assert response.status_code == http_status
    assert response.json()["error"]["code"] == code
    assert TEST_KEY not in response.text
    if status == 429:
        assert response.headers["retry-after"] == "7"


def test_a_dropped_stream_ends_with_an_error_event(
    upstream_client: TestClient, upstream: FakeUpstream
) -> None:
    upstream.script.drop_after = 2

    events = stream_events(upstream_client)
    assert events[:2] == [("delta", {"text": "Hello"}), ("delta", {"text": " from"})]
    assert events[2:] == [
        (
            "error",
            {
                "code": "upstream_unavailable",
                "message": "The connection to the provider failed or was cut.",
            },
        ),
    ]


def test_a_silent_upstream_times_out(upstream_settings: Settings, upstream: FakeUpstream) -> None:
    upstream.script.hold_after = 1  # never released: the upstream goes quiet
    settings = upstream_settings.model_copy(update={"read_timeout": 0.2})
    with TestClient(create_app(settings)) as client:
        events = stream_events(client)
        response = client.post("/v1/chat", json=CHAT)

    assert events[0] == ("delta", {"text": "Hello"})
    assert events[1][0] == "error"
    assert events[1][1]["code"] == "timeout"
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"


def test_an_unreachable_upstream_is_reported() -> None:
    settings = make_settings(
        provider="openai-compatible", base_url="http://127.0.0.1:9/v1", connect_timeout=1
    )
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/chat", json=CHAT)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unavailable"


class Recording:
    """Innermost middleware: a fresh record of the provider's part for each request."""

    calls: ClassVar[list[UpstreamCall]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        call = UpstreamCall()
        self.calls.append(call)
        token = upstream_call.set(call)
        try:
            await self.app(scope, receive, send)
        finally:
            upstream_call.reset(token)


def test_routes_record_the_first_token_and_the_error(
    upstream_app: FastAPI, upstream: FakeUpstream
) -> None:
    # Appended, not added: inside any middleware of the app's own that keeps such a record.
    upstream_app.user_middleware.append(Middleware(Recording))
    Recording.calls.clear()
    with TestClient(upstream_app) as client:
        before = time.perf_counter()
        stream_events(client)
        upstream.script.status = 429
        stream_events(client)
        client.post("/v1/chat", json=CHAT)
    ok, failed_stream, failed_chat = Recording.calls[-3:]
    assert ok.first_token is not None
    assert before < ok.first_token < time.perf_counter()
    assert ok.error is None
    assert (failed_stream.first_token, failed_stream.error) == (None, "rate_limited")
    assert failed_chat.error == "rate_limited"
