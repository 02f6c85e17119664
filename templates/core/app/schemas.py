"""Request and response bodies, and the payloads of the streamed events."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["system", "user", "assistant"]

ErrorCode = Literal[
    "bad_request",
    "rate_limited",
    "timeout",
    "upstream_auth",
    "upstream_unavailable",
    "upstream_error",
    "internal_error",
    "unauthorized",
    "request_too_large",
    "shutting_down",
]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    role: Role
    content: str = Field(max_length=100_000)


class ChatRequest(BaseModel):
    # Strict: `false` is no temperature and "5" no max_tokens (an integer is still a float).
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
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

    @field_validator("max_tokens", mode="before")
    @classmethod
    def _integral(cls, value: object) -> object:
        # 256.0 is an integer in JSON (and JSON Schema); 256.5 and "256" are not.
        return int(value) if isinstance(value, float) and value.is_integer() else value


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
