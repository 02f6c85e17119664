"""GET /v1/tools: the API's operations as OpenAI function-calling tools."""

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from app.main import create_app
from app.routes.tools import tool_name
from tests.support import make_settings

NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def tools_of(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/tools")
    assert response.status_code == 200
    tools = response.json()
    assert all(tool["type"] == "function" for tool in tools)
    functions = {tool["function"]["name"]: tool["function"] for tool in tools}
    assert len(functions) == len(tools), "tool names are unique"
    return functions


def operations(client: TestClient) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation), from the live OpenAPI schema."""
    paths = client.get("/openapi.json").json()["paths"]
    return {
        operation["operationId"]: (method, path, operation)
        for path, methods in paths.items()
        for method, operation in methods.items()
    }


def streams(operation: dict[str, Any]) -> bool:
    """Whether an operation only answers with a stream of events."""
    content = operation["responses"].get("200", {}).get("content", {})
    return set(content) == {"text/event-stream"}


def test_every_json_operation_is_a_tool(client: TestClient) -> None:
    tools = tools_of(client)
    expected = {
        operation_id
        for operation_id, (_, _, operation) in operations(client).items()
        if operation.get("x-agent-tool") is not False and not streams(operation)
    }
    assert set(tools) == expected
    assert {"chat", "healthz"} <= set(tools)
    assert not {"chat_stream", "list_tools"} & set(tools)  # a stream, and this very list
    for name, function in tools.items():
        assert NAME.fullmatch(name)
        assert function["description"]
        assert function["parameters"]["type"] == "object"
    assert "$ref" not in json.dumps(tools)


def test_chat_tool_describes_its_body(client: TestClient) -> None:
    chat = tools_of(client)["chat"]
    assert chat["description"] == (
        "Answer a chat\n\n"
        "The whole answer as one JSON document. Provider failures become HTTP errors."
    )
    parameters = chat["parameters"]
    assert parameters["required"] == ["messages"]
    message = parameters["properties"]["messages"]["items"]  # a $ref in the OpenAPI schema
    assert message["properties"]["role"]["enum"] == ["system", "user", "assistant"]
    assert message["required"] == ["role", "content"]
    assert "title" not in message
    model = parameters["properties"]["model"]
    assert model["description"] == "Model to use instead of the configured one."


class Node(BaseModel):
    """A tree of labels."""

    label: str = Field(description="Shown to people.")
    children: list["Node"] = []


class Note(BaseModel):
    body: str


def app_with_more_routes() -> FastAPI:
    """The app, plus routes written the ordinary way: no operation ids, no tool code."""
    more = APIRouter(prefix="/items", tags=["items"])

    @more.put("/{item_id}")
    async def replace_item(item_id: int, tree: Node, dry_run: bool = False) -> dict[str, Any]:
        """Replaces the tree of an item."""
        return {"item_id": item_id, "dry_run": dry_run, "label": tree.label}

    @more.get("/")
    async def search_items(
        q: str = "", limit: Annotated[int, Query(le=50, description="At most this many.")] = 10
    ) -> list[str]:
        """Finds items by name."""
        return [q] * limit

    @more.post("/bulk")
    async def tag_items(ids: list[int]) -> int:
        """Tags several items at once."""
        return len(ids)

    @more.post("/notes")
    async def add_note(note: Note) -> str:
        """Adds a note; its field `body` would be ambiguous flattened."""
        return note.body

    @more.delete("/", openapi_extra={"x-agent-tool": False})
    async def delete_everything() -> None:
        """Not for agents."""

    app = create_app(make_settings())
    app.include_router(more)
    return app


def test_new_routes_become_tools_without_extra_code() -> None:
    with TestClient(app_with_more_routes()) as client:
        tools = tools_of(client)

    assert "delete_everything" not in tools
    replace = tools["replace_item"]  # the function's name, no FastAPI suffix
    assert replace["description"] == "Replace Item\n\nReplaces the tree of an item."
    parameters = replace["parameters"]
    assert parameters["required"] == ["item_id", "label"]
    properties = parameters["properties"]
    assert properties["item_id"] == {"type": "integer"}
    assert properties["dry_run"] == {"type": "boolean", "default": False}
    assert properties["label"] == {"type": "string", "description": "Shown to people."}
    # A model that contains itself stops at the second level instead of recursing.
    assert properties["children"]["items"] == {}

    search = tools["search_items"]["parameters"]
    assert search["properties"]["limit"] == {
        "type": "integer",
        "maximum": 50,
        "default": 10,
        "description": "At most this many.",
    }
    assert "required" not in search

    bulk = tools["tag_items"]["parameters"]  # a body that is not an object
    assert bulk["properties"]["body"]["type"] == "array"
    assert bulk["properties"]["body"]["items"] == {"type": "integer"}
    assert bulk["required"] == ["body"]


def call(client: TestClient, name: str, arguments: dict[str, Any]) -> Any:
    """What an agent does with a tool call (as in docs/tools.md): find the operation of that
    name, send path and query parameters by name, and the rest as the JSON body."""
    method, path, operation = operations(client)[name]
    args = dict(arguments)
    where = {p["name"]: p["in"] for p in operation.get("parameters", [])}
    path = path.format(**{k: args.pop(k) for k in list(args) if where.get(k) == "path"})
    query = {k: args.pop(k) for k in list(args) if where.get(k) == "query"}
    body = args.pop("body", args) if "requestBody" in operation else None
    response = client.request(method, path, params=query, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_tool_calls_reach_their_operations() -> None:
    with TestClient(app_with_more_routes()) as client:
        tools = tools_of(client)
        chat = call(client, "chat", {"messages": [{"role": "user", "content": "as a tool"}]})
        replaced = call(client, "replace_item", {"item_id": 7, "dry_run": True, "label": "root"})
        found = call(client, "search_items", {"q": "x", "limit": 2})
        tagged = call(client, "tag_items", {"body": [1, 2, 3]})
        noted = call(client, "add_note", {"body": {"body": "remember"}})
        health = call(client, "healthz", {})

    assert {"chat", "replace_item", "search_items", "tag_items", "healthz"} <= set(tools)
    assert chat["text"] == "as a tool"
    assert replaced == {"item_id": 7, "dry_run": True, "label": "root"}
    assert found == ["x", "x"]
    assert tagged == 3
    assert noted == "remember"
    assert tools["add_note"]["parameters"]["required"] == ["body"]
    assert health["status"] == "ok"


def test_tool_names_are_valid_and_unique() -> None:
    assert tool_name("list items/v2", set()) == "list_items_v2"
    assert tool_name("x" * 80, set()) == "x" * 64
    assert tool_name("chat", {"chat"}) == "chat_2"
    assert tool_name("x" * 80, {"x" * 64}) == "x" * 62 + "_2"
    assert tool_name("!!!", set()) == "operation"
