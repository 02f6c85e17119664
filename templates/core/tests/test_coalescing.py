"""STREAM_COALESCE_MS: tokens that come close together go as one event, nothing else changes."""

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.inference import InferenceError, StreamEvent, coalesced
from app.main import create_app
from app.schemas import Delta, Done
from tests.fake_upstream import FakeUpstream
from tests.support import parse_events

CHAT = {"messages": [{"role": "user", "content": "hello there"}]}
# Long enough that a test finishing at all proves the window was not waited for.
NEVER = 3_600.0


class Gate:
    """A point where the fake upstream waits until the test opens it."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()

    async def pass_(self) -> None:
        self.reached.set()
        await self.opened.wait()


class Upstream:
    """A provider stream the test drives: each step is a token, or a gate it waits at."""

    def __init__(self, *steps: str | Gate, error: InferenceError | None = None) -> None:
        self.steps = steps
        self.error = error
        self.answered = asyncio.Event()
        """Set as the stream sends its `Done`."""
        self.closed = asyncio.Event()

    async def stream(self) -> AsyncGenerator[StreamEvent, None]:
        try:
            for step in self.steps:
                if isinstance(step, Gate):
                    await step.pass_()
                else:
                    yield Delta(text=step)
            if self.error is not None:
                raise self.error
            self.answered.set()
            yield Done(finish_reason="stop", usage=None, model="test-model")
        finally:
            self.closed.set()


async def collect(events: AsyncGenerator[StreamEvent, None]) -> list[StreamEvent]:
    async with asyncio.timeout(10):
        return [event async for event in events]


def texts(events: list[StreamEvent]) -> list[str]:
    return [event.text for event in events if isinstance(event, Delta)]


def test_the_first_token_is_sent_without_waiting_for_the_window() -> None:
    async def scenario() -> None:
        gate = Gate()
        events = coalesced(Upstream("Hello", gate, " there").stream(), NEVER)
        async with asyncio.timeout(10):
            assert await anext(events) == Delta(text="Hello")
        gate.opened.set()
        assert texts(await collect(events)) == [" there"]

    asyncio.run(scenario())


def test_tokens_within_the_window_go_as_one_event_in_order() -> None:
    async def scenario() -> None:
        first, last = Gate(), Gate()
        upstream = Upstream("Hello", first, " from", " the", last, " upstream")
        events = coalesced(upstream.stream(), 0.2)
        async with asyncio.timeout(10):
            assert await anext(events) == Delta(text="Hello")
            first.opened.set()
            # The window closes while the upstream still waits: what came meanwhile goes.
            assert await anext(events) == Delta(text=" from the")
            assert last.reached.is_set()
        last.opened.set()
        assert texts(await collect(events)) == [" upstream"]

    asyncio.run(scenario())


def test_the_end_of_the_stream_sends_what_is_held_at_once() -> None:
    async def scenario() -> None:
        gate = Gate()
        events = coalesced(Upstream("Hello", gate, " from", " upstream").stream(), NEVER)
        assert await anext(events) == Delta(text="Hello")
        gate.opened.set()
        assert await collect(events) == [
            Delta(text=" from upstream"),
            Done(finish_reason="stop", usage=None, model="test-model"),
        ]

    asyncio.run(scenario())


def test_tokens_read_while_an_event_is_being_sent_come_before_the_end() -> None:
    async def scenario() -> None:
        gate = Gate()
        upstream = Upstream("Hello", gate, " from", " upstream")
        events = coalesced(upstream.stream(), NEVER)
        assert await anext(events) == Delta(text="Hello")
        # The client is slow: the rest of the answer, and its end, come before it asks again.
        gate.opened.set()
        async with asyncio.timeout(10):
            await upstream.answered.wait()
        assert await collect(events) == [
            Delta(text=" from upstream"),
            Done(finish_reason="stop", usage=None, model="test-model"),
        ]

    asyncio.run(scenario())


def test_tokens_further_apart_than_the_window_go_as_separate_events() -> None:
    async def scenario() -> None:
        window = 0.01

        async def paced() -> AsyncGenerator[StreamEvent, None]:
            for token in ["Hello", " from", " upstream"]:
                yield Delta(text=token)
                await asyncio.sleep(window * 5)  # the upstream's pace, not a synchronisation
            yield Done(finish_reason="stop", usage=None, model="test-model")

        events = await collect(coalesced(paced(), window))
        assert texts(events) == ["Hello", " from", " upstream"]

    asyncio.run(scenario())


def test_an_error_mid_stream_comes_after_the_tokens_held() -> None:
    async def scenario() -> None:
        error = InferenceError("upstream_error", "The provider failed to answer.")
        gate = Gate()
        events = coalesced(Upstream("Hello", gate, " from", error=error).stream(), NEVER)
        assert await anext(events) == Delta(text="Hello")
        gate.opened.set()
        async with asyncio.timeout(10):
            assert await anext(events) == Delta(text=" from")
            with pytest.raises(InferenceError) as raised:
                await anext(events)
        assert raised.value is error

    asyncio.run(scenario())


def test_leaving_during_a_window_closes_the_upstream_at_once() -> None:
    async def scenario() -> None:
        first, last = Gate(), Gate()
        upstream = Upstream("Hello", first, " from", last)
        events = coalesced(upstream.stream(), NEVER)
        assert await anext(events) == Delta(text="Hello")
        first.opened.set()
        held = asyncio.create_task(anext(events))  # " from" is held for the window
        async with asyncio.timeout(10):
            await last.reached.wait()
        held.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await held
        assert upstream.closed.is_set()

    asyncio.run(scenario())


def test_closing_between_events_closes_the_upstream() -> None:
    async def scenario() -> None:
        gate = Gate()
        upstream = Upstream("Hello", gate)
        events = coalesced(upstream.stream(), NEVER)
        assert await anext(events) == Delta(text="Hello")
        async with asyncio.timeout(10):
            await gate.reached.wait()
        await events.aclose()
        assert upstream.closed.is_set()

    asyncio.run(scenario())


def test_a_window_of_zero_passes_the_stream_as_it_is() -> None:
    async def scenario() -> None:
        stream = Upstream("Hello").stream()
        assert coalesced(stream, 0) is stream
        await stream.aclose()

    asyncio.run(scenario())


def stream_text(settings: Settings) -> tuple[str, list[tuple[str | None, Any]]]:
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/chat/stream", json=CHAT)
    assert response.status_code == 200
    events = [(event.event, event.json()) for event in parse_events(response.text)]
    text = "".join(data["text"] for name, data in events if name == "delta")
    return text, events


@pytest.mark.parametrize("window_ms", [0, 50, 1_000])
def test_the_text_and_the_end_are_the_same_with_and_without_coalescing(
    upstream_settings: Settings, upstream: FakeUpstream, window_ms: float
) -> None:
    upstream.script.tokens = [f" token{i}" for i in range(30)]
    settings = upstream_settings.model_copy(update={"stream_coalesce_ms": window_ms})

    text, events = stream_text(settings)

    assert text == "".join(upstream.script.tokens)
    assert events[-1][0] == "done"
    assert events[-1][1]["usage"]["completion_tokens"] == 30


def test_a_provider_failure_still_ends_a_coalesced_stream_with_an_error_event(
    upstream_settings: Settings, upstream: FakeUpstream
) -> None:
    upstream.script.drop_after = 2
    settings = upstream_settings.model_copy(update={"stream_coalesce_ms": 1_000})

    text, events = stream_text(settings)

    assert text == "Hello from"
    assert events[-1] == (
        "error",
        {
            "code": "upstream_unavailable",
            "message": "The connection to the provider failed or was cut.",
        },
    )
