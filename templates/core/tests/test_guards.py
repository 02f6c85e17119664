"""Limits of one request (body size, messages, characters, max_tokens) and CORS."""

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.main import create_app
from tests.support import make_settings, serve

CHAT = {"messages": [{"role": "user", "content": "hello there"}]}


def limited_client(**limits: Any) -> TestClient:
    return TestClient(create_app(make_settings(**limits)))


def test_a_body_over_the_limit_gets_413_from_its_content_length() -> None:
    with limited_client(max_request_bytes=1_024) as client:
        big = {"messages": [{"role": "user", "content": "x" * 2_000}]}
        response = client.post("/v1/chat", json=big)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "request_too_large"
        assert client.post("/v1/chat", json=CHAT).status_code == 200


def test_a_chunked_body_over_the_limit_gets_413_as_it_arrives() -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}]}'

    with serve(create_app(make_settings(max_request_bytes=1_024))) as url:
        response = httpx2.post(
            f"{url}/v1/chat/stream",
            content=chunks(),
            headers={"content-type": "application/json"},
            timeout=5,
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


@pytest.mark.parametrize(
    ("limits", "body"),
    [
        pytest.param({"max_messages": 2}, {"messages": CHAT["messages"] * 3}, id="messages"),
        pytest.param(
            {"max_prompt_chars": 10}, CHAT | {"messages": CHAT["messages"] * 2}, id="chars"
        ),
        pytest.param({"max_output_tokens": 100}, CHAT | {"max_tokens": 101}, id="max_tokens"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/chat", "/v1/chat/stream"])
def test_requests_over_a_limit_get_422_before_any_inference(
    limits: dict[str, int], body: dict[str, Any], path: str
) -> None:
    with limited_client(**limits) as client:
        response = client.post(path, json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "limit_exceeded"
    assert error["loc"][0] == "body"


def test_no_cors_headers_without_origins(client: TestClient) -> None:
    response = client.options(
        "/v1/chat",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_the_listed_origins_only() -> None:
    settings = make_settings(cors_origins="https://app.example.com/, https://other.example.com")
    assert settings.cors_origins == ["https://app.example.com", "https://other.example.com"]
    with TestClient(create_app(settings)) as client:
        preflight = {"access-control-request-method": "POST"}
        allowed = client.options(
            "/v1/chat/stream", headers={"origin": "https://app.example.com"} | preflight
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        refused = client.options(
            "/v1/chat/stream", headers={"origin": "https://evil.example"} | preflight
        )
        assert refused.status_code == 400
        answer = client.post("/v1/chat", json=CHAT, headers={"origin": "https://app.example.com"})
        assert answer.headers["access-control-allow-origin"] == "https://app.example.com"


@pytest.mark.parametrize("origins", ["*", "app.example.com"])
def test_cors_origins_must_be_explicit(origins: str) -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        make_settings(cors_origins=origins)
