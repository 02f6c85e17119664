"""CPU per request with no sockets: each ASGI app is called directly, in one process.

Run with the generated project's Python, from the project's folder:

    .venv/bin/python <repo>/scripts/bench/inprocess.py

Prints one JSON object: microseconds of CPU per request for the bare ASGI app, the one-route
FastAPI app and the generated app's /healthz, and for the app's POST /v1/chat/stream with an
upstream of 1 and of 33 tokens (the difference gives the cost of relaying a token). The upstream
is the project's own shared client with an httpx2 MockTransport in place of the network, so what
is measured is the app, FastAPI, the openai SDK and httpx2, without the kernel.
"""

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROUNDS = int(os.environ.get("INPROCESS_ROUNDS", "2000"))
STREAM_ROUNDS = int(os.environ.get("INPROCESS_STREAM_ROUNDS", "400"))
PROMPT = {"messages": [{"role": "user", "content": "Say something about Fly.io in a few words."}]}

os.environ.update(
    PROVIDER="openai-compatible",
    BASE_URL="http://upstream.invalid/v1",
    MODEL="bench-model",
    INFERENCE_API_KEY="sk-bench-not-a-key",
    RATE_LIMIT="1000000/second",
    LOG_LEVEL="WARNING",
)
sys.path[:0] = [os.getcwd(), str(HERE)]

import httpx2  # noqa: E402


def sse_body(tokens: int) -> bytes:
    chunk = {"object": "chat.completion.chunk", "model": "bench-model"}
    events = [
        {**chunk, "choices": [{"index": 0, "delta": {"content": f" w{i}"}, "finish_reason": None}]}
        for i in range(tokens)
    ]
    events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    lines = [f"data: {json.dumps(event)}\n\n" for event in events]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


class Upstream:
    tokens = 1

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = sse_body(self.tokens)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)


UPSTREAM = Upstream()


def patch_client() -> None:
    """The app's own create_client, with the network swapped for the mock upstream."""
    import app.inference
    import app.main

    real = app.inference.create_client

    def create_client(settings: Any) -> Any:
        client = real(settings)
        client._client = httpx2.AsyncClient(  # the SDK's httpx2 client, same base URL and timeout
            transport=httpx2.MockTransport(UPSTREAM.handle),
            base_url=client._client.base_url,
            timeout=client._client.timeout,
        )
        return client

    app.main.create_client = create_client


async def call(asgi: Any, method: str, path: str, body: bytes = b"") -> list[dict[str, Any]]:
    headers = [(b"host", b"bench"), (b"content-type", b"application/json")]
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }
    delivered = False
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await never.wait()  # the client never leaves
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asgi(scope, receive, send)
    return sent


async def cpu_us(asgi: Any, method: str, path: str, body: bytes, rounds: int) -> float:
    sent = await call(asgi, method, path, body)
    if sent[0].get("status") != 200:
        raise SystemExit(f"{method} {path}: status {sent[0].get('status')}")
    for _ in range(rounds // 10):  # warm-up
        await call(asgi, method, path, body)
    start = time.process_time()
    for _ in range(rounds):
        await call(asgi, method, path, body)
    return (time.process_time() - start) / rounds * 1e6


async def measure() -> dict[str, float]:
    import bare_asgi
    import minimal_fastapi

    patch_client()
    from app.main import create_app, lifespan

    app = create_app()
    chat = json.dumps(PROMPT).encode()
    results = {
        "bareAsgi": await cpu_us(bare_asgi.app, "GET", "/healthz", b"", ROUNDS),
        "oneRouteFastapi": await cpu_us(minimal_fastapi.app, "GET", "/healthz", b"", ROUNDS),
    }
    async with lifespan(app):
        results["healthz"] = await cpu_us(app, "GET", "/healthz", b"", ROUNDS)
        UPSTREAM.tokens = 1
        results["stream1"] = await cpu_us(app, "POST", "/v1/chat/stream", chat, STREAM_ROUNDS)
        UPSTREAM.tokens = 33
        results["stream33"] = await cpu_us(app, "POST", "/v1/chat/stream", chat, STREAM_ROUNDS)
    results["perToken"] = (results["stream33"] - results["stream1"]) / 32
    return results


def main() -> None:
    import uvloop  # the event loop uvicorn[standard] runs the app on

    results = uvloop.run(measure())
    sys.stdout.write(json.dumps({key: round(value, 1) for key, value in results.items()}) + "\n")


if __name__ == "__main__":
    main()
