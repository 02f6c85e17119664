"""The MCP server at /mcp, driven by FastMCP's client over streamable HTTP."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.main import create_app
from tests.support import make_settings, serve

TOKEN = "s3cret-token"
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
ACCEPT = {"accept": "application/json, text/event-stream"}


def tool_names(url: str, **client_options: Any) -> set[str]:
    async def run() -> set[str]:
        async with Client(f"{url}/mcp", **client_options) as client:
            return {tool.name for tool in await client.list_tools()}

    return asyncio.run(run())


def call_tool(url: str, name: str, arguments: dict[str, Any], **client_options: Any) -> Any:
    async def run() -> Any:
        async with Client(f"{url}/mcp", **client_options) as client:
            result = await client.call_tool(name, arguments)
            assert not result.is_error
            return result.structured_content

    return asyncio.run(run())


def streams(operation: dict[str, Any]) -> bool:
    """Whether an operation only answers with a stream of events."""
    content = operation["responses"].get("200", {}).get("content", {})
    return set(content) == {"text/event-stream"}


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    with serve(create_app(make_settings())) as url:
        yield url


def test_the_operations_are_mcp_tools(live_url: str, client: TestClient) -> None:
    names = tool_names(live_url)

    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        operation["operationId"]
        for methods in paths.values()
        for operation in methods.values()
        if operation.get("x-agent-tool") is not False and not streams(operation)
    }
    assert names == expected
    assert {"chat", "healthz"} <= names
    assert "chat_stream" not in names


def test_a_tool_call_runs_the_operation(live_url: str) -> None:
    arguments = {"messages": [{"role": "user", "content": "hello over mcp"}]}
    answer = call_tool(live_url, "chat", arguments)
    assert answer["text"] == "hello over mcp"
    assert answer["finish_reason"] == "stop"
    assert call_tool(live_url, "healthz", {})["status"] == "ok"


@pytest.mark.skipif("rate_limit" not in Settings.model_fields, reason="without ratelimit")
def test_a_tool_call_counts_once_against_the_rate_limit_of_its_caller() -> None:
    arguments = {"messages": [{"role": "user", "content": "hello over mcp"}]}

    def chat_from(address: str) -> Any:
        transport = StreamableHttpTransport(f"{url}/mcp", headers={"fly-client-ip": address})

        async def run() -> Any:
            async with Client(transport) as client:
                return await client.call_tool("chat", arguments, raise_on_error=False)

        return asyncio.run(run())

    with serve(create_app(make_settings(rate_limit="2/minute"))) as url:
        # Each call is a whole MCP session (initialize, then the call): only the call counts.
        assert [chat_from("203.0.113.7").is_error for _ in range(2)] == [False, False]
        refused = chat_from("203.0.113.7")
        assert refused.is_error
        assert "rate limited" in str(refused.content).lower()
        assert not chat_from("203.0.113.8").is_error  # another caller has a budget of its own


def test_mcp_is_an_ordinary_path_of_the_app(client: TestClient) -> None:
    response = client.post("/mcp", json=LIST_TOOLS, headers=ACCEPT, follow_redirects=False)
    assert response.status_code == 200
    assert {tool["name"] for tool in response.json()["result"]["tools"]} >= {"chat", "healthz"}
    assert "/mcp" not in client.get("/openapi.json").json()["paths"]


def test_a_chunked_body_over_the_limit_gets_the_apps_413() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    with serve(create_app(make_settings(max_request_bytes=1_024))) as url:
        headers = ACCEPT | {"content-type": "application/json"}
        response = httpx2.post(f"{url}/mcp", content=chunks(), headers=headers, timeout=5)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


class RequireToken:
    """Stands in for an authentication middleware: a bearer token on every request."""

    def __init__(self, app: ASGIApp, seen: list[tuple[str, str | None]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode() or None
        self.seen.append((scope["path"], authorization))
        if authorization != f"Bearer {TOKEN}":
            response = JSONResponse({"detail": "Not authenticated"}, status_code=401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


@pytest.fixture
def guarded() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    seen: list[tuple[str, str | None]] = []
    app: FastAPI = create_app(make_settings())
    app.add_middleware(RequireToken, seen=seen)
    with serve(app) as url:
        yield url, seen


def test_middleware_guards_mcp_and_its_tool_calls(
    guarded: tuple[str, list[tuple[str, str | None]]],
) -> None:
    url, seen = guarded
    response = httpx2.post(f"{url}/mcp", json=LIST_TOOLS, headers=ACCEPT, timeout=5)
    assert response.status_code == 401
    with pytest.raises(Exception, match="error response"):
        tool_names(url)  # the client as well
    assert {path for path, _ in seen} == {"/mcp"}

    seen.clear()
    assert call_tool(url, "healthz", {}, auth=TOKEN)["status"] == "ok"
    # The tool call went through the middleware too, with the caller's credentials.
    assert ("/healthz", f"Bearer {TOKEN}") in seen
    assert all(authorization == f"Bearer {TOKEN}" for _, authorization in seen)
