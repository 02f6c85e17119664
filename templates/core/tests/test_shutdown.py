"""Graceful shutdown: new chats are refused, open streams finish or end with `shutting_down`."""

import httpx2

from tests.fake_upstream import FakeUpstream
from tests.support import Stopping, iter_events

CHAT = {"messages": [{"role": "user", "content": "hello there"}]}


def test_an_open_stream_ends_with_a_final_event_at_the_deadline(
    stopping: Stopping, upstream: FakeUpstream
) -> None:
    upstream.script.hold_after = 1  # never released
    with (
        httpx2.Client(timeout=5) as http,
        http.stream("POST", f"{stopping.url}/v1/chat/stream", json=CHAT) as response,
    ):
        events = iter_events(response.iter_lines())
        assert next(events).event == "delta"
        stopping.begin()
        last = next(event for event in events if event.comment is None)
        assert last.event == "error"
        assert last.json()["code"] == "shutting_down"
        assert list(events) == []
        refused = http.post(f"{stopping.url}/v1/chat/stream", json=CHAT)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "shutting_down"
    assert refused.headers["retry-after"] == "1"
    assert upstream.disconnected.wait(timeout=5)  # the upstream request was closed


def test_a_stream_that_finishes_within_the_grace_ends_normally(
    stopping: Stopping, upstream: FakeUpstream
) -> None:
    upstream.script.hold_after = 1
    with (
        httpx2.Client(timeout=5) as http,
        http.stream("POST", f"{stopping.url}/v1/chat/stream", json=CHAT) as response,
    ):
        events = iter_events(response.iter_lines())
        assert next(events).event == "delta"
        stopping.begin()
        upstream.release.set()
        rest = [event.event for event in events if event.comment is None]
    assert rest == ["delta", "delta", "done"]
