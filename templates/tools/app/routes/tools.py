"""`GET /v1/tools`: the API's operations as OpenAI tools, from the live OpenAPI schema."""

import re
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter(prefix="/v1", tags=["agents"])

METHODS = ("get", "put", "post", "delete", "patch")
NAME_LENGTH = 64  # OpenAI's limits; names match [a-zA-Z0-9_-]
DESCRIPTION_LENGTH = 1024
REF_PREFIX = "#/components/schemas/"


class FunctionDefinition(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]


class Tool(BaseModel):
    type: Literal["function"] = "function"
    function: FunctionDefinition


@router.get(
    "/tools", summary="List the operations as OpenAI tools", openapi_extra={"x-agent-tool": False}
)
async def list_tools(request: Request) -> list[Tool]:
    """Tool definitions for the `tools` field of a chat completion. A tool call's arguments go
    to the operation of that `operationId`: path and query parameters by name, the rest as body."""
    return tools_from_openapi(request.app.openapi())


def tools_from_openapi(openapi: dict[str, Any]) -> list[Tool]:
    schemas: dict[str, Any] = openapi.get("components", {}).get("schemas", {})
    tools: list[Tool] = []
    names: set[str] = set()
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS or operation.get("x-agent-tool") is False:
                continue
            content = operation.get("responses", {}).get("200", {}).get("content", {})
            if set(content) == {"text/event-stream"}:
                continue  # a tool call wants one result; each stream has a JSON twin
            name = tool_name(operation.get("operationId") or f"{method}_{path}", names)
            names.add(name)
            parts = [operation.get("summary"), operation.get("description")]
            description = "\n\n".join(part.strip() for part in parts if part)
            function = FunctionDefinition(
                name=name,
                description=(description or f"{method.upper()} {path}")[:DESCRIPTION_LENGTH],
                parameters=parameters(operation, schemas),
            )
            tools.append(Tool(function=function))
    return tools


def tool_name(operation_id: str, taken: set[str]) -> str:
    name = re.sub(r"[^a-zA-Z0-9_-]+", "_", operation_id).strip("_")[:NAME_LENGTH] or "operation"
    candidate, number = name, 2
    while candidate in taken:
        suffix = f"_{number}"
        candidate, number = name[: NAME_LENGTH - len(suffix)] + suffix, number + 1
    return candidate


def parameters(operation: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """One JSON schema object for the path and query parameters and the JSON body."""
    inputs = {key: operation[key] for key in ("parameters", "requestBody") if key in operation}
    operation = inline(inputs, schemas)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in operation.get("parameters", []):
        # Headers and cookies are the caller's transport, not the model's choice.
        if parameter.get("in") in ("path", "query"):
            properties[parameter["name"]] = parameter.get("schema", {})  # description included
            if parameter.get("required"):
                required.append(parameter["name"])
    request_body = operation.get("requestBody", {})
    json_body = request_body.get("content", {}).get("application/json")
    if json_body is not None:
        body = json_body.get("schema", {})
        fields = body.get("properties", {})
        # Flattened unless that would be ambiguous: then the body is the `body` argument.
        flat = "body" not in fields and not fields.keys() & properties.keys()
        if body.get("type") == "object" and fields and flat:
            properties |= fields
            required += body.get("required", [])
        else:
            properties["body"] = body
            if request_body.get("required"):
                required.append("body")
    result: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        result["required"] = required
    return result


def inline(schema: Any, schemas: dict[str, Any], resolving: tuple[str, ...] = ()) -> Any:
    """`schema` with its `$ref`s resolved (a model inside itself: `{}`) and without `title`s."""
    if isinstance(schema, list):
        return [inline(item, schemas, resolving) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    if isinstance(ref := schema.get("$ref"), str) and ref.startswith(REF_PREFIX):
        name = ref.removeprefix(REF_PREFIX)
        if name in resolving:
            return {}
        result = inline(schemas.get(name, {}), schemas, (*resolving, name))
    for key, value in schema.items():
        if key in ("default", "examples", "example", "const", "enum"):
            result[key] = value  # data, not schemas
        elif key in ("properties", "patternProperties", "$defs", "definitions"):
            result[key] = {field: inline(item, schemas, resolving) for field, item in value.items()}
        elif key not in ("$ref", "title"):
            result[key] = inline(value, schemas, resolving)
    return result
