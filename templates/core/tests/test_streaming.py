from fastapi.testclient import TestClient

from tests.support import parse_events


def test_stream_sends_deltas_in_order_then_done(client: TestClient) -> None:
    body = {"messages": [{"role": "user", "content": "one two three"}]}
    response = client.post("/v1/chat/stream", json=body)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    # Without it Fly's proxy buffers the stream to compress it.
    assert response.headers["content-encoding"] == "none"
    events = parse_events(response.text)
    assert [event.event for event in events] == ["delta", "delta", "delta", "done"]
    assert [event.json()["text"] for event in events[:-1]] == ["one ", "two ", "three"]
    assert events[-1].json() == {
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
        "model": "test-model",
    }


def test_stream_answers_the_last_user_message(client: TestClient) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "second"},
    ]
    events = parse_events(client.post("/v1/chat/stream", json={"messages": messages}).text)
    assert [event.event for event in events] == ["delta", "done"]
    assert events[0].json() == {"text": "second"}
