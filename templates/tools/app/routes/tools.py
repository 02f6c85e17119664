"""`GET /v1/tools`: this API's operations as OpenAI function-calling tool definitions.

Read from the live OpenAPI schema, so a new route is a new tool with no extra code: its
name is the operation id (the function's name), its description the docstring, and its
parameters the path and query parameters plus the fields of the JSON body, with every
`$ref` resolved. Left out: streaming operations (a tool call wants one result; each has a
JSON twin) and operations marked `openapi_extra={"x-agent-tool": False}`.
"""

import re
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter(prefix="/v1", tags=["agents"])

METHODS = ("get", "put", "post", "delete", "patch")
NAME_LENGTH = 64  # OpenAI's limit; names match [a-zA-Z0-9_-]
DESCRIPTION_LENGTH = 1024
# Keywords whose values are data, not schemas: copied as they are.
DATA_KEYWORDS = {"default", "examples", "example", "const", "enum"}
# Keywords whose values map names to schemas.
SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions"}


class FunctionDefinition(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]


class Tool(BaseModel):
    type: Literal["function"] = "function"
    function: FunctionDefinition


@router.get(
    "/tools",
    operation_id="list_tools",
    summary="List this API's operations as OpenAI tools",
    openapi_extra={"x-agent-tool": False},
)
async def list_tools(request: Request) -> list[Tool]:
    """Function-calling tool definitions, ready for the `tools` field of a chat completion.

    Call a tool by sending its arguments to the operation of the same `operationId` in
    /openapi.json: path and query parameters by name, the rest as the JSON body (or the
    `body` argument, for a body that is not an object).
    """
    return tools_from_openapi(request.app.openapi())


def tools_from_openapi(openapi: dict[str, Any]) -> list[Tool]:
    schemas: dict[str, Any] = openapi.get("components", {}).get("schemas", {})
    tools: list[Tool] = []
    names: set[str] = set()
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS or not is_tool(operation):
                continue
            name = tool_name(operation.get("operationId") or f"{method}_{path}", names)
            names.add(name)
            function = FunctionDefinition(
                name=name,
                description=description(operation, method, path),
                parameters=parameters(operation, schemas),
            )
            tools.append(Tool(function=function))
    return tools


def is_tool(operation: dict[str, Any]) -> bool:
    if operation.get("x-agent-tool") is False:
        return False
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    return not content or set(content) != {"text/event-stream"}


def tool_name(operation_id: str, taken: set[str]) -> str:
    name = re.sub(r"[^a-zA-Z0-9_-]+", "_", operation_id).strip("_")[:NAME_LENGTH] or "operation"
    candidate, n = name, 2
    while candidate in taken:
        suffix = f"_{n}"
        candidate, n = name[: NAME_LENGTH - len(suffix)] + suffix, n + 1
    return candidate


def description(operation: dict[str, Any], method: str, path: str) -> str:
    parts = [operation.get("summary"), operation.get("description")]
    text = "\n\n".join(part.strip() for part in parts if part) or f"{method.upper()} {path}"
    return text[:DESCRIPTION_LENGTH]


def parameters(operation: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """One JSON schema object for all the inputs of an operation."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in operation.get("parameters", []):
        parameter = inline(parameter, schemas)
        if parameter.get("in") not in ("path", "query"):
            continue  # headers and cookies are the caller's transport, not the model's choice
        schema = dict(parameter.get("schema", {}))
        if parameter.get("description"):
            schema["description"] = parameter["description"]
        properties[parameter["name"]] = schema
        if parameter.get("required"):
            required.append(parameter["name"])

    request_body = inline(operation.get("requestBody", {}), schemas)
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
    """`schema` with every local `$ref` replaced by its target, and without `title`s.

    A model that contains itself is cut off at the second level (`{}`: any value).
    """
    if isinstance(schema, list):
        return [inline(item, schemas, resolving) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.removeprefix("#/components/schemas/")
        if name in resolving:
            return {}
        result = inline(schemas.get(name, {}), schemas, (*resolving, name))
    for key, value in schema.items():
        if key in ("$ref", "title"):
            continue
        if key in DATA_KEYWORDS:
            result[key] = value
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            result[key] = {name: inline(item, schemas, resolving) for name, item in value.items()}
        else:
            result[key] = inline(value, schemas, resolving)
    return result
