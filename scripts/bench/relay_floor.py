"""The floor: a bare ASGI relay that passes the upstream's SSE bytes through with httpx.

No framework, no validation, no parsing: what relaying a stream costs in Python at least.
POST /v1/chat/completions goes to UPSTREAM_URL as it came; GET /healthz answers ok.
"""

import os

try:
    import httpx2 as httpx  # the HTTP client the generated app's openai SDK uses
except ImportError:
    import httpx

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # e.g. http://127.0.0.1:9000/v1/chat/completions
client = httpx.AsyncClient(limits=httpx.Limits(max_connections=None), timeout=None)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await client.aclose()
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["method"] == "GET":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    request = client.build_request("POST", UPSTREAM_URL, content=body, headers={"content-type": "application/json"})
    upstream = await client.send(request, stream=True)
    try:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": upstream.status_code, "headers": headers})
        async for chunk in upstream.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        await upstream.aclose()
