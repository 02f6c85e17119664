"""Which Fly.io region answered: a `Fly-Region` header on every response.

Fly.io sets FLY_REGION on every Machine. With Machines in several regions (`fly scale count 1
--region fra`), this header and /healthz tell which one served a request. Off Fly.io (no
FLY_REGION) responses go out unchanged.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "Fly-Region"


class RegionHeader:
    """Pure ASGI middleware: it adds the header when the response starts and passes every
    body chunk straight through, so a stream is neither buffered nor delayed."""

    def __init__(self, app: ASGIApp, *, region: str) -> None:
        self.app = app
        self.region = region

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_region(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(HEADER, self.region)
            await send(message)

        await self.app(scope, receive, send_with_region)
