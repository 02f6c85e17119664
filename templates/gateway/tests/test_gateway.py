"""The OpenAI-compatible gateway: with the mock, in front of a fake provider, and used by
the official openai SDK against a real server."""

import json
from collections.abc import Iterator
from typing import Any

import fastapi.routing
import httpx2
import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.config import Settings
from app.main import create_app
from tests.fake_upstream import FakeUpstream
from tests.support import TEST_KEY, Stopping, iter_events, make_settings, parse_events, serve
from tests.test_upstream import Recording

MESSAGES = [{"role": "user", "content": "hello there"}]
CHAT = {"model": "test-model", "messages": MESSAGES}
USAGE = {"include_usage": True}
STREAM = CHAT | {"stream": True, "stream_options": USAGE}
CLIENT_KEY = "sk-client-not-the-server-key"

# What an OpenAI-compatible provider answers without streaming, provider extras included.
COMPLETION = {
    "id": "chatcmpl-json",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "test-model",
    "system_fingerprint": "fp_fake",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello from upstream"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    "x_provider": {"queue_ms": 3},
}
MODELS = {"object": "list", "data": [{"id": "up-model", "object": "model", "owned_by": "up"}]}


def stream_data(response: httpx2.Response) -> list[Any]:
    """The `data` of each event: JSON chunks, and the final `[DONE]` marker as it is."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    # Without it Fly's proxy buffers the stream to compress it.
    assert response.headers["content-encoding"] == "none"
    return [e.data if e.data == "[DONE]" else e.json() for e in parse_events(response.text)]


def content(chunks: list[Any]) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for chunk in chunks
        if isinstance(chunk, dict) and "choices" in chunk
        for choice in chunk["choices"]
    )


def assert_openai_error(response: httpx2.Response, status: int, type_: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"}
    assert error["message"]
    if type_ is not None:
        assert error["type"] == type_


# --- with the mock provider -------------------------------------------------------------


def test_mock_answers_a_completion(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200
    completion = response.json()
    assert completion["object"] == "chat.completion"
    assert completion["id"].startswith("chatcmpl-")
    assert completion["model"] == "test-model"
    assert completion["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hello there"},
            "finish_reason": "stop",
        }
    ]
    assert completion["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}


def test_mock_streams_chunks_then_done(client: TestClient) -> None:
    chunks = stream_data(client.post("/v1/chat/completions", json=STREAM))
    assert chunks[-1] == "[DONE]"
    objects = chunks[:-1]
    assert {chunk["object"] for chunk in objects} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in objects}) == 1
    assert objects[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert content(chunks) == "hello there"
    assert objects[-2]["choices"][0]["finish_reason"] == "stop"
    assert objects[-1]["choices"] == []
    assert objects[-1]["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}


def test_mock_reads_content_parts_and_max_tokens(client: TestClient) -> None:
    parts = [{"type": "text", "text": "one two "}, {"type": "text", "text": "three"}]
    body = {"messages": [{"role": "user", "content": parts}], "max_completion_tokens": 2}
    chunks = stream_data(client.post("/v1/chat/completions", json=body | {"stream": True}))
    assert content(chunks) == "one two "
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-2]["model"] == "test-model"  # the configured model when none is named
    assert not any("usage" in chunk for chunk in chunks[:-1])  # not asked for


@pytest.mark.parametrize(
    ("body", "param"),
    [
        pytest.param({"model": "m"}, "messages", id="no messages"),
        pytest.param({"model": "m", "messages": []}, "messages", id="empty messages"),
        pytest.param(CHAT | {"max_tokens": 0}, "max_tokens", id="max_tokens zero"),
        pytest.param(CHAT | {"stream": "sometimes"}, "stream", id="stream not a boolean"),
    ],
)
def test_invalid_requests_get_openai_errors(
    client: TestClient, body: dict[str, Any], param: str
) -> None:
    response = client.post("/v1/chat/completions", json=body)
    assert_openai_error(response, 400, "invalid_request_error")
    assert response.json()["error"]["param"] == param


def test_malformed_json_gets_an_openai_error(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", content=b'{"model": ', headers={"content-type": "application/json"}
    )
    assert_openai_error(response, 400, "invalid_request_error")
    assert response.json()["error"]["param"] is None


def test_models_lists_the_configured_model(client: TestClient) -> None:
    response = client.get("/v1/models")
    assert response.status_code == 200
    assert response.json() == {
        "object": "list",
        "data": [{"id": "test-model", "object": "model", "created": 0, "owned_by": "mock"}],
    }


def test_gateway_models_limit_what_clients_may_ask_for() -> None:
    settings = make_settings(gateway_models=["small", "large"])
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/chat/completions", json=CHAT | {"model": "large"}).is_success
        assert client.post("/v1/chat/completions", json=CHAT).is_success  # MODEL always is
        refused = client.post("/v1/chat/completions", json=CHAT | {"model": "huge"})
        listed = [model["id"] for model in client.get("/v1/models").json()["data"]]
    assert_openai_error(refused, 404, "invalid_request_error")
    assert refused.json()["error"]["code"] == "model_not_found"
    assert listed == ["test-model", "small", "large"]


def test_gateway_operations_are_documented_but_not_agent_tools(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    completions = paths["/v1/chat/completions"]["post"]
    assert completions["operationId"] == "create_chat_completion"
    assert completions["x-agent-tool"] is False
    assert paths["/v1/models"]["get"]["x-agent-tool"] is False


# --- in front of an OpenAI-compatible provider ------------------------------------------


def test_stream_relays_the_provider_chunks(
    upstream_client: TestClient, upstream: FakeUpstream
) -> None:
    function = {"name": "lookup", "parameters": {"type": "object"}, "strict": False}
    body = STREAM | {"seed": 7, "tools": [{"type": "function", "function": function}]}
    response = upstream_client.post(
        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {CLIENT_KEY}"}
    )
    chunks = stream_data(response)

    assert content(chunks) == "Hello from upstream"
    assert {chunk["id"] for chunk in chunks[:-1]} == {"chatcmpl-fake"}  # the provider's own
    assert chunks[-2]["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    assert chunks[-1] == "[DONE]"
    [request] = upstream.requests
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"  # the server's key
    assert request.body == body  # everything else passes through as it is


@pytest.mark.parametrize("status", [400, 404, 422, 429, 500, 503])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_provider_errors_keep_their_status_and_shape(
    upstream_client: TestClient, upstream: FakeUpstream, status: int, stream: bool
) -> None:
    upstream.script.status = status
    upstream.script.retry_after = "7"
    upstream.script.message = f"refused, key {TEST_KEY}"

    response = upstream_client.post("/v1/chat/completions", json=CHAT | {"stream": stream})

    assert_openai_error(response, status, "fake_error")
    assert response.json()["error"]["message"] == "refused, key [redacted]"
    assert TEST_KEY not in response.text
    assert response.headers["retry-after"] == "7"


def test_a_refused_server_key_is_a_bad_gateway(
    upstream_client: TestClient, upstream: FakeUpstream
) -> None:
    upstream.script.status = 401
    response = upstream_client.post("/v1/chat/completions", json=STREAM)
    assert_openai_error(response, 502, "api_error")
    assert response.json()["error"]["code"] == "upstream_auth"


def test_an_unreachable_provider_is_a_bad_gateway() -> None:
    settings = make_settings(
        provider="openai-compatible", base_url="http://127.0.0.1:9/v1", connect_timeout=1
    )
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/chat/completions", json=STREAM)
    assert_openai_error(response, 502)
    assert response.json()["error"]["code"] == "upstream_unavailable"


def test_a_stream_cut_midway_ends_with_an_error_object(
    upstream_client: TestClient, upstream: FakeUpstream
) -> None:
    upstream.script.drop_after = 2
    chunks = stream_data(upstream_client.post("/v1/chat/completions", json=STREAM))

    assert content(chunks) == "Hello from"
    assert chunks[-1]["error"]["code"] == "upstream_unavailable"
    assert "[DONE]" not in chunks


@pytest.fixture(scope="module")
def json_upstream() -> Iterator[tuple[list[Request], str]]:
    """A provider that answers without streaming and lists its models."""
    received: list[Request] = []

    async def completions(request: Request) -> Response:
        await request.json()
        received.append(request)
        return JSONResponse(COMPLETION)

    async def models(request: Request) -> Response:
        received.append(request)
        return JSONResponse(MODELS)

    routes = [
        Route("/v1/chat/completions", completions, methods=["POST"]),
        Route("/v1/models", models),
    ]
    with serve(Starlette(routes=routes), lifespan="off") as url:
        yield received, url


@pytest.fixture
def json_client(json_upstream: tuple[list[Request], str]) -> Iterator[TestClient]:
    received, url = json_upstream
    received.clear()
    settings = make_settings(
        provider="openai-compatible", base_url=f"{url}/v1", INFERENCE_API_KEY=TEST_KEY
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_completion_passes_through_unchanged(
    json_client: TestClient, json_upstream: tuple[list[Request], str]
) -> None:
    response = json_client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200
    assert response.json() == COMPLETION
    [request] = json_upstream[0]
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"


def test_models_come_from_the_provider(
    json_client: TestClient, json_upstream: tuple[list[Request], str]
) -> None:
    response = json_client.get("/v1/models", headers={"authorization": f"Bearer {CLIENT_KEY}"})
    assert response.status_code == 200
    assert response.json() == MODELS
    [request] = json_upstream[0]
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"


# --- the openai SDK against a real server -----------------------------------------------


@pytest.fixture
def live_upstream_url(upstream_app: FastAPI) -> Iterator[str]:
    with serve(upstream_app) as url:
        yield url


@pytest.fixture
def live_mock_url() -> Iterator[str]:
    with serve(create_app(make_settings())) as url:
        yield url


def sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=10)


def test_the_openai_sdk_streams_from_the_provider(
    live_upstream_url: str, upstream: FakeUpstream
) -> None:
    stream = sdk(live_upstream_url).chat.completions.create(
        model="test-model",
        messages=[{"role": "user", "content": "hello there"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Hello from upstream"
    )
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 8
    assert upstream.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"


def test_the_openai_sdk_gets_the_provider_errors(
    live_upstream_url: str, upstream: FakeUpstream
) -> None:
    upstream.script.status = 429
    upstream.script.retry_after = "3"
    with pytest.raises(openai.RateLimitError) as caught:
        sdk(live_upstream_url).chat.completions.create(
            model="test-model", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "3"


HUGE_PROMPT = "x" * 150_000


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        pytest.param(
            {"messages": [{"role": "user", "content": HUGE_PROMPT}]}, "messages", id="150k chars"
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": [{"type": "text", "text": HUGE_PROMPT}]}]},
            "messages",
            id="150k chars in content parts",
        ),
        pytest.param({"messages": MESSAGES * 60}, "messages", id="60 messages"),
        pytest.param(
            {"messages": MESSAGES, "max_tokens": 1_000_000}, "max_tokens", id="max_tokens"
        ),
        pytest.param(
            {"messages": MESSAGES, "max_completion_tokens": 1_000_000},
            "max_completion_tokens",
            id="max_completion_tokens",
        ),
    ],
)
def test_the_openai_sdk_is_held_to_the_chat_limits_before_the_provider(
    live_upstream_url: str, upstream: FakeUpstream, request_: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(live_upstream_url).chat.completions.create(model="test-model", **request_)
    assert caught.value.param == param
    assert caught.value.type == "invalid_request_error"
    assert upstream.requests == []


def test_openapi_documents_what_the_gateway_answers() -> None:
    with TestClient(create_app(make_settings(model="my-org/my-model"))) as client:
        schema = client.get("/openapi.json").json()
    completions = schema["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert {"200", "400", "404", "413", "502", "503", "504", "default"} <= set(completions)
    assert "422" not in completions  # invalid requests get OpenAI's 400
    # The example works as it is against this server's provider.
    [example] = schema["components"]["schemas"]["CompletionRequest"]["examples"]
    assert example["model"] == "my-org/my-model"
    request = schema["components"]["schemas"]["CompletionRequest"]["properties"]
    assert request["messages"]["maxItems"] == 50


def test_the_openai_sdk_works_with_the_mock(live_mock_url: str) -> None:
    client = sdk(live_mock_url)
    completion = client.chat.completions.create(
        model="any-model", messages=[{"role": "user", "content": "hi from the sdk"}]
    )
    assert completion.choices[0].message.content == "hi from the sdk"
    assert completion.model == "any-model"
    assert [model.id for model in client.models.list()] == ["test-model"]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="m", messages=[])


def test_a_client_disconnect_closes_the_upstream_request(
    live_upstream_url: str, upstream: FakeUpstream
) -> None:
    upstream.script.hold_after = 1  # never released: only a disconnect ends this answer
    with (
        httpx2.Client(timeout=5) as http,
        http.stream("POST", f"{live_upstream_url}/v1/chat/completions", json=STREAM) as response,
    ):
        first = next(iter_events(response.iter_lines()))
        assert first.data is not None
        assert "chat.completion.chunk" in first.data
    assert upstream.disconnected.wait(timeout=5)


def test_pings_keep_a_quiet_stream_alive(
    live_upstream_url: str, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.05)
    upstream.script.hold_after = 1  # goes quiet after "Hello" until released
    with (
        httpx2.Client(timeout=5) as http,
        http.stream("POST", f"{live_upstream_url}/v1/chat/completions", json=STREAM) as response,
    ):
        events = iter_events(response.iter_lines())
        before: list[str] = []
        for event in events:
            if event.comment == "ping":
                break
            assert event.data is not None
            before.append(event.data)
        upstream.release.set()
        after = [event.data for event in events if event.comment is None]
    assert content([json.loads(data) for data in before]) == "Hello"
    assert after[-1] == "[DONE]"


def test_an_open_stream_ends_with_an_error_object_when_the_server_stops(
    stopping: Stopping, upstream: FakeUpstream
) -> None:
    upstream.script.hold_after = 1  # never released: only the shutdown deadline ends it
    with (
        httpx2.Client(timeout=5) as http,
        http.stream("POST", f"{stopping.url}/v1/chat/completions", json=STREAM) as response,
    ):
        events = iter_events(response.iter_lines())
        assert "chat.completion.chunk" in (next(events).data or "")
        stopping.begin()
        rest = [event.data for event in events if event.comment is None]
        refused = http.post(f"{stopping.url}/v1/chat/completions", json=STREAM)
    assert rest, "the stream ended with no last event"
    assert json.loads(rest[-1] or "")["error"]["code"] == "shutting_down"
    assert_openai_error(refused, 503)
    assert refused.json()["error"]["code"] == "shutting_down"
    assert refused.headers["retry-after"] == "1"
    assert upstream.disconnected.wait(timeout=5)  # the upstream request was closed


def test_settings_accept_gateway_models_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_MODELS", '["a", "b"]')
    monkeypatch.setenv("PROVIDER", "mock")  # no provider key needed to read the settings
    assert Settings(_env_file=None).gateway_models == ["a", "b"]


def test_completions_record_the_first_token_and_the_error(
    upstream_app: FastAPI, upstream: FakeUpstream
) -> None:
    upstream_app.user_middleware.append(Middleware(Recording))
    Recording.calls.clear()
    with TestClient(upstream_app) as client:
        client.post("/v1/chat/completions", json=STREAM)
        upstream.script.status = 429
        client.post("/v1/chat/completions", json=STREAM)
    ok, refused = Recording.calls[-2:]
    assert ok.first_token is not None
    assert ok.error is None
    assert (refused.first_token, refused.error, refused.status) == (None, "rate_limited", 429)
