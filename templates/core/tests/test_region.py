"""The `Fly-Region` header: on every response when FLY_REGION is set, without buffering streams."""

import httpx2
from fastapi.testclient import TestClient

from app.main import create_app
from tests.fake_upstream import FakeUpstream
from tests.support import TEST_KEY, iter_events, make_settings, parse_events, serve

CHAT = {"messages": [{"role": "user", "content": "hello there"}]}


def test_off_fly_responses_carry_no_region(client: TestClient) -> None:
    assert "fly-region" not in client.get("/healthz").headers


def test_every_response_names_the_region_it_came_from() -> None:
    with TestClient(create_app(make_settings(fly_region="fra"))) as client:
        health = client.get("/healthz")
        assert health.headers["fly-region"] == "fra"
        assert health.json()["region"] == "fra"
        stream = client.post("/v1/chat/stream", json=CHAT)
        assert stream.headers["fly-region"] == "fra"
        assert [event.event for event in parse_events(stream.text)][-1] == "done"
        assert client.get("/no-such-page").headers["fly-region"] == "fra"


def test_the_header_does_not_hold_back_a_stream(
    upstream_server: tuple[FakeUpstream, str], upstream: FakeUpstream
) -> None:
    _, url = upstream_server
    settings = make_settings(
        provider="openai-compatible",
        base_url=f"{url}/v1",
        INFERENCE_API_KEY=TEST_KEY,
        fly_region="sin",
    )
    upstream.script.hold_after = 1
    with (
        serve(create_app(settings)) as live_url,
        httpx2.Client(timeout=5) as http,
        http.stream("POST", f"{live_url}/v1/chat/stream", json=CHAT) as response,
    ):
        assert response.headers["fly-region"] == "sin"
        events = iter_events(response.iter_lines())
        assert next(events).event == "delta"  # while the upstream still holds the rest
        upstream.release.set()
        assert [event.event for event in events][-1] == "done"
