"""The ceiling: a bare ASGI app with no framework, served by the same uvicorn as the generated app.

GET answers {"status":"ok"}; POST reads the whole body and answers a small chat-shaped JSON.
"""

HEALTH = b'{"status":"ok"}'
CHAT = (
    b'{"id":"chatcmpl-bench","model":"bench-model","content":"Fly streams tokens from the edge to you,'
    b' one by one.","finish_reason":"stop"}'
)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = CHAT if scope["method"] == "POST" else HEALTH
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
