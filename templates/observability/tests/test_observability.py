"""Request ids, one JSON log line per request, Prometheus metrics."""

import json
import logging
import re
import socket

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.observability import JsonFormatter
from tests.fake_upstream import FakeUpstream
from tests.support import TEST_KEY, bound_socket, make_settings, parse_events, serve

CHAT = {"messages": [{"role": "user", "content": "a secret prompt"}]}


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "app.access"
    ]


def metric(text: str, name: str, labels: str = "") -> float:
    pattern = (
        "^" + re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)$"
    )
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{name}{{{labels}}} not in the metrics"
    return float(found.group(1))


def test_every_answer_has_a_request_id(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/healthz", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    forged = client.get("/healthz", headers={"x-request-id": "bad id\n"}).headers["x-request-id"]
    assert forged != "bad id\n"


def test_one_json_line_per_request_without_secrets_or_prompts(
    upstream_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    response = upstream_client.post("/v1/chat/stream", json=CHAT, headers={"x-request-id": "r-1"})
    assert parse_events(response.text)[-1].event == "done"

    [line] = access_lines(caplog)
    assert line["request_id"] == "r-1"
    assert line["route"] == "/v1/chat/stream"
    assert line["status"] == 200
    assert line["stream"] is True
    assert line["upstream_status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert isinstance(line["ttft_ms"], float)
    text = caplog.text + json.dumps(line)
    assert "secret prompt" not in text
    assert TEST_KEY not in text


def test_the_prompt_is_logged_only_at_debug(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.access")
    client.post("/v1/chat", json=CHAT)
    [line] = access_lines(caplog)
    assert "a secret prompt" in str(line["body"])


def test_upstream_errors_are_logged_and_counted(
    upstream_client: TestClient, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    upstream.script.status = 429
    upstream_client.post("/v1/chat/stream", json=CHAT)
    [line] = access_lines(caplog)
    assert (line["upstream_status"], line["error"]) == (429, "rate_limited")
    metrics = upstream_client.get("/metrics").text
    assert metric(metrics, "llm_upstream_errors_total", 'code="rate_limited"') == 1


def test_a_refusal_while_stopping_is_logged_with_its_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    app = create_app(make_settings())
    with TestClient(app) as client:
        assert client.portal is not None
        client.portal.call(app.state.drain.begin)  # as the stop signal does, on the app's loop
        assert client.post("/v1/chat", json=CHAT).status_code == 503
    [line] = access_lines(caplog)
    assert (line["status"], line["error"]) == (503, "shutting_down")


def test_metrics_count_requests_streams_and_first_tokens(client: TestClient) -> None:
    client.post("/v1/chat/stream", json=CHAT)
    client.post("/v1/chat", json=CHAT)
    client.post("/nowhere")
    text = client.get("/metrics").text
    stream = 'method="POST",route="/v1/chat/stream",status="200"'
    assert metric(text, "http_requests_total", stream) == 1
    assert metric(text, "http_requests_total", 'method="POST",route="unmatched",status="404"') == 1
    assert metric(text, "llm_time_to_first_token_seconds_count", 'route="/v1/chat/stream"') == 1
    assert metric(text, "sse_streams_in_flight") == 0
    assert metric(text, "http_requests_in_flight") == 1  # this scrape
    assert metric(text, "asyncio_tasks") >= 1
    assert metric(text, "process_resident_memory_bytes") > 0


def test_metrics_port_serves_prometheus_without_a_key() -> None:
    app_socket = bound_socket()  # bound first, so the metrics port below cannot be the app's
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = make_settings(
        api_keys="sk-metrics-0123456789abcdef", metrics_port=port, metrics_host="127.0.0.1"
    )
    with serve(create_app(settings), sock=app_socket) as url:
        if "api_keys" in Settings.model_fields:  # the public port wants the key
            assert httpx2.get(f"{url}/metrics").status_code == 401
        scraped = httpx2.get(f"http://127.0.0.1:{port}/metrics")
        assert scraped.status_code == 200
        assert "http_requests_total" in scraped.text
        assert httpx2.get(f"http://127.0.0.1:{port}/other").status_code == 404
