"""An MCP server at `/mcp`: the API's operations as tools, made by FastMCP when the app starts.

Each tool call is an in-process request through the whole app, middleware included."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from fastapi import APIRouter, FastAPI
from fastmcp import FastMCP
from fastmcp.server.dependencies import get_http_headers
from fastmcp.server.providers.openapi import MCPType
from fastmcp.utilities.openapi import HTTPRoute
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

PATH = "/mcp"
# The caller's credentials, and the address Fly's proxy saw (rate limits count by it).
FORWARDED_HEADERS = {"authorization", "cookie", "fly-client-ip"}


class MCPEndpoint:
    """The ASGI app behind `/mcp`: the MCP server the lifespan made for this app."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        mcp_app: ASGIApp | None = getattr(scope["app"].state, "mcp_app", None)
        if mcp_app is None:
            raise RuntimeError("the MCP server runs only while the app's lifespan does")
        await mcp_app(scope, receive, send)


def route_type(route: HTTPRoute, mcp_type: MCPType) -> MCPType | None:
    """Every operation is a tool, except streaming ones and those marked as no tool."""
    content = route.responses.get("200")
    streams = content is not None and set(content.content_schema) == {"text/event-stream"}
    if streams or route.extensions.get("x-agent-tool") is False:
        return MCPType.EXCLUDE
    return MCPType.TOOL


async def forward_credentials(request: httpx2.Request) -> None:
    """Gives a tool call the credentials of the MCP request that made it."""
    for name, value in get_http_headers(include=FORWARDED_HEADERS).items():
        if name in FORWARDED_HEADERS:
            request.headers[name] = value


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Made at startup, when every route of the app is there to become a tool.
    server = FastMCP.from_fastapi(
        app,
        name=app.title,
        instructions=app.summary,
        version=app.version,
        route_map_fn=route_type,
        httpx_client_kwargs={"event_hooks": {"request": [forward_credentials]}},
    )
    # Stateless, in JSON: any Machine can answer any request.
    mcp_app = server.http_app(path=PATH, stateless_http=True, json_response=True)
    # An error raised in it (a body over MAX_REQUEST_BYTES) is answered as the app answers it.
    mcp_app.exception_handlers.update(app.exception_handlers)
    async with mcp_app.router.lifespan_context(mcp_app):
        app.state.mcp_app = mcp_app
        logger.info("MCP server at %s with %d tools", PATH, len(await server.list_tools()))
        try:
            yield
        finally:
            app.state.mcp_app = None


router = APIRouter(lifespan=lifespan)
# A Route of an ASGI app (not a request handler): Starlette passes it the whole exchange.
router.routes.append(Route(PATH, MCPEndpoint(), include_in_schema=False))
