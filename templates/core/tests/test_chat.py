from typing import Any

import pytest
from fastapi.testclient import TestClient

MESSAGES = [{"role": "user", "content": "hello there"}]


def test_chat_answers_with_the_mock(client: TestClient) -> None:
    response = client.post("/v1/chat", json={"messages": MESSAGES})
    assert response.status_code == 200
    # Left to Fly's proxy to compress: only streams opt out.
    assert "content-encoding" not in response.headers
    assert response.json() == {
        "text": "hello there",
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4},
        "model": "test-model",
    }


def test_chat_honours_model_and_max_tokens(client: TestClient) -> None:
    body = {"messages": MESSAGES, "model": "other-model", "max_tokens": 1}
    answer = client.post("/v1/chat", json=body).json()
    assert answer["text"] == "hello "
    assert answer["finish_reason"] == "length"
    assert answer["model"] == "other-model"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no messages field"),
        pytest.param({"messages": []}, id="empty messages"),
        pytest.param({"messages": [{"role": "robot", "content": "hi"}]}, id="unknown role"),
        pytest.param({"messages": [{"role": "user"}]}, id="no content"),
        pytest.param({"messages": MESSAGES, "temperature": 2.5}, id="temperature too high"),
        pytest.param({"messages": MESSAGES, "max_tokens": 0}, id="max_tokens zero"),
        pytest.param({"messages": MESSAGES, "model": ""}, id="empty model"),
        pytest.param({"messages": MESSAGES, "stream": True}, id="unknown field"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/chat", "/v1/chat/stream"])
def test_invalid_requests_are_rejected(client: TestClient, path: str, body: dict[str, Any]) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.json()["detail"]
