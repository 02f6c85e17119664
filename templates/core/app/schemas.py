"""Request and response bodies, and the payloads of the streamed events."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]

ErrorCode = Literal[
    "bad_request",
    "rate_limited",
    "timeout",
    "upstream_auth",
    "upstream_unavailable",
    "upstream_error",
    "internal_error",
]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str = Field(max_length=100_000)


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "messages": [{"role": "user", "content": "Why is the sky blue?"}],
                    "temperature": 0.7,
                    "max_tokens": 256,
                },
            ],
        },
    )

    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    model: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Model to use instead of the configured one.",
    )
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(
        default=None,
        ge=1,
        le=32_768,
        description="Upper bound on the number of tokens in the answer.",
    )


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Delta(BaseModel):
    """Payload of a `delta` event: the next piece of the answer."""

    text: str


class Done(BaseModel):
    """Payload of the `done` event that ends a successful stream."""

    finish_reason: str | None
    usage: Usage | None
    model: str


class ErrorDetail(BaseModel):
    """Payload of the `error` event that ends a failed stream."""

    code: ErrorCode
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ChatResponse(BaseModel):
    text: str
    finish_reason: str | None
    usage: Usage | None
    model: str


class Health(BaseModel):
    status: Literal["ok"]
    provider: str
    model: str
    region: str | None
