"""A fake OpenAI-compatible API: scripted answers, recorded requests, observed disconnects."""

import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Script:
    """What the next chat completion does."""

    tokens: list[str] = field(default_factory=lambda: ["Hello", " from", " upstream"])
    status: int = 200
    message: str = "fake failure"
    retry_after: str | None = None
    usage: bool = True
    hold_after: int | None = None
    """Stop after this many tokens until `FakeUpstream.release` is set."""
    drop_after: int | None = None
    """Cut the connection after this many tokens."""
    malformed_after: int | None = None
    """Send a chunk that is not JSON after this many tokens."""
    error_after: int | None = None
    """Send an `{"error": ...}` chunk, as providers do when they fail mid-answer, and end."""
    comments: bool = False
    """Send an SSE comment before every chunk, as OpenRouter does while a model is busy."""
    failures: int | None = None
    """Only this many requests get the failure above (status, drop, malformed); None: all."""


@dataclass
class Recorded:
    headers: dict[str, str]
    body: dict[str, Any]


def _chunk(model: str, delta: dict[str, str], finish_reason: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return _sse(model, choices=[choice])


def _sse(model: str, **fields: Any) -> str:
    payload = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        **fields,
    }
    return f"data: {json.dumps(payload)}\n\n"


class FakeUpstream:
    def __init__(self) -> None:
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        self.release = threading.Event()
        self.reset()

    def reset(self) -> None:
        """A fresh script and record; frees any answer a previous test left waiting."""
        self.release.set()
        self.script = Script()
        self.requests: list[Recorded] = []
        self.release = threading.Event()
        """Lets an answer held by `Script.hold_after` go on."""
        self.disconnected = threading.Event()
        """Set when a client goes away before an answer ends."""

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(Recorded(headers=dict(request.headers), body=body))
        script = self.script
        if script.failures is not None and len(self.requests) > script.failures:
            script = Script(tokens=script.tokens, usage=script.usage)
        if script.status != 200:
            error = {"message": script.message, "type": "fake_error", "code": None}
            headers = {"retry-after": script.retry_after} if script.retry_after else None
            return JSONResponse({"error": error}, status_code=script.status, headers=headers)
        return StreamingResponse(self._answer(script, body), media_type="text/event-stream")

    async def _answer(self, script: Script, body: dict[str, Any]) -> AsyncIterator[str]:
        model = body["model"]
        release, disconnected = self.release, self.disconnected
        finished = False
        try:
            yield _chunk(model, {"role": "assistant", "content": ""})
            for index, token in enumerate(script.tokens):
                if index == script.drop_after:
                    raise ConnectionAbortedError("dropped by the script")
                if index == script.malformed_after:
                    yield "data: {not json\n\n"
                if index == script.error_after:
                    yield f"data: {json.dumps({'error': {'message': script.message}})}\n\n"
                    return
                if script.comments:
                    yield ": PROCESSING\n\n"
                if index == script.hold_after:
                    await anyio.to_thread.run_sync(release.wait, abandon_on_cancel=True)
                yield _chunk(model, {"content": token})
            yield _chunk(model, {}, "stop")
            if script.usage and body.get("stream_options", {}).get("include_usage"):
                n = len(script.tokens)
                usage = {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": 5 + n}
                yield _sse(model, choices=[], usage=usage)
            yield "data: [DONE]\n\n"
            finished = True
        finally:
            if not finished:
                disconnected.set()
