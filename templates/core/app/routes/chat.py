import asyncio
import logging
from collections.abc import AsyncIterable
from typing import Any

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.deps import ProviderDep
from app.inference import InferenceError, complete
from app.schemas import ChatRequest, ChatResponse, Delta, ErrorDetail, ErrorResponse

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["chat"])

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The provider refused the request"},
    429: {"model": ErrorResponse, "description": "Rate limited by the provider; see Retry-After"},
    502: {"model": ErrorResponse, "description": "The provider failed or could not be reached"},
    504: {"model": ErrorResponse, "description": "The provider did not answer in time"},
}


@router.post(
    "/chat/stream",
    response_class=EventSourceResponse,
    operation_id="chat_stream",
    summary="Stream a chat answer as Server-Sent Events",
)
async def chat_stream(
    payload: ChatRequest, provider: ProviderDep
) -> AsyncIterable[ServerSentEvent]:
    """Streams `delta` events (`text`), then ends with exactly one `done` event
    (`finish_reason`, `usage`, `model`) or one `error` event (`code`, `message`).

    A `: ping` comment is sent every 15 s while the provider is silent.
    """
    try:
        async for event in provider.stream(payload):
            name = "delta" if isinstance(event, Delta) else "done"
            yield ServerSentEvent(event=name, data=event)
    except InferenceError as exc:
        yield ServerSentEvent(event="error", data=exc.detail())
    except asyncio.CancelledError:
        logger.info("stream cancelled: the client went away or the server is stopping")
        raise
    except Exception:
        # The 200 status is already sent, so an error event is the only way to tell.
        logger.exception("stream failed")
        detail = ErrorDetail(code="internal_error", message="Internal error.")
        yield ServerSentEvent(event="error", data=detail)


@router.post("/chat", operation_id="chat", summary="Answer a chat", responses=ERROR_RESPONSES)
async def chat(payload: ChatRequest, provider: ProviderDep) -> ChatResponse:
    """The whole answer as one JSON document. Provider failures become HTTP errors."""
    return await complete(provider, payload)
