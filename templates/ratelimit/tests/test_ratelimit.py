"""Rate limits: per key or client address, 429 with Retry-After, streams count once."""

import socket
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import SettingError, Settings
from app.main import create_app
from tests.support import make_settings

CHAT = {"messages": [{"role": "user", "content": "hello there"}]}
KEY_A = "sk-a-0123456789abcdef"
KEY_B = "sk-b-0123456789abcdef"


def limited(**overrides: Any) -> TestClient:
    return TestClient(create_app(make_settings(**({"rate_limit": "2/minute"} | overrides))))


def test_the_third_request_in_a_minute_gets_429_with_retry_after() -> None:
    with limited() as client:
        assert client.post("/v1/chat/stream", json=CHAT).status_code == 200  # a stream counts
        assert client.post("/v1/chat", json=CHAT).status_code == 200
        response = client.post("/v1/chat", json=CHAT)
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert response.json()["error"]["code"] == "rate_limited"
        assert client.post("/v1/chat/stream", json=CHAT).status_code == 429
        assert client.get("/healthz").status_code == 200  # never limited: Fly checks it


@pytest.mark.skipif("api_keys" not in Settings.model_fields, reason="without the auth feature")
def test_each_key_has_its_own_budget() -> None:
    with limited(api_keys=f"{KEY_A},{KEY_B}") as client:
        a = {"authorization": f"Bearer {KEY_A}"}
        b = {"authorization": f"Bearer {KEY_B}"}
        assert [client.post("/v1/chat", json=CHAT, headers=a).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        assert client.post("/v1/chat", json=CHAT, headers=b).status_code == 200


def test_without_a_key_each_client_address_has_its_own_budget() -> None:
    with limited() as client:
        one = {"fly-client-ip": "203.0.113.1"}
        two = {"fly-client-ip": "203.0.113.2"}
        codes = [client.post("/v1/chat", json=CHAT, headers=one).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert client.post("/v1/chat", json=CHAT, headers=two).status_code == 200


def test_several_limits_and_off() -> None:
    with limited(rate_limit="1/second;100/hour") as client:
        codes = [client.post("/v1/chat", json=CHAT).status_code for _ in range(2)]
        assert codes == [200, 429]
    with limited(rate_limit="off") as client:
        assert {client.post("/v1/chat", json=CHAT).status_code for _ in range(5)} == {200}


def test_a_wrong_limit_stops_the_start() -> None:
    with pytest.raises(SettingError, match="RATE_LIMIT"):
        limited(rate_limit="often")


def test_requests_pass_when_redis_is_down() -> None:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with limited(redis_url=f"redis://127.0.0.1:{port}/0") as client:
        assert {client.post("/v1/chat", json=CHAT).status_code for _ in range(3)} == {200}


def test_openapi_documents_429(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "429" in paths["/v1/chat/stream"]["post"]["responses"]
    assert "429" not in paths["/healthz"]["get"]["responses"]


def test_readyz_fails_while_redis_is_down_and_requests_still_pass() -> None:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with limited(redis_url=f"redis://127.0.0.1:{port}/0") as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        # Other features may add checks of their own.
        assert response.json()["status"] == "unavailable"
        assert response.json()["checks"]["rate_limit_storage"] is False
        assert client.post("/v1/chat", json=CHAT).status_code == 200
    with limited() as client:  # in memory
        ready = client.get("/readyz").json()
        assert ready["status"] == "ok"
        assert ready["checks"]["rate_limit_storage"] is True
