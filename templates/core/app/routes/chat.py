import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.deps import DrainDep, ProviderDep, accepting
from app.history import ChatTurnDep
from app.inference import InferenceError, StreamEvent, complete, note_error, note_first_token
from app.schemas import ChatResponse, Delta, Done, ErrorDetail, ErrorResponse
from app.streaming import unbuffered_stream

logger = logging.getLogger(__name__)

# While the server stops, new chats get a 503 (`shutting_down`) and go to another Machine.
router = APIRouter(prefix="/v1", tags=["chat"], dependencies=[Depends(accepting)])

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The provider refused the request"},
    429: {"model": ErrorResponse, "description": "Rate limited by the provider; see Retry-After"},
    502: {"model": ErrorResponse, "description": "The provider failed or could not be reached"},
    503: {"model": ErrorResponse, "description": "The server is restarting; retry"},
    504: {"model": ErrorResponse, "description": "The provider did not answer in time"},
}


async def upstream_events(
    turn: ChatTurnDep, provider: ProviderDep
) -> AsyncIterator[AsyncIterator[StreamEvent]]:
    # A client that leaves can strand the stream at a `yield` (FastAPI stops iterating it
    # without closing it): closing it here ends its upstream request too.
    async with aclosing(provider.stream(turn.chat)) as events:
        yield events


UpstreamEvents = Annotated[AsyncIterator[StreamEvent], Depends(upstream_events, scope="request")]


@router.post(
    "/chat/stream",
    response_class=EventSourceResponse,
    dependencies=[Depends(unbuffered_stream)],
    summary="Stream a chat answer as Server-Sent Events",
    responses={503: ERROR_RESPONSES[503]},
)
async def chat_stream(
    turn: ChatTurnDep, events: UpstreamEvents, drain: DrainDep
) -> AsyncIterable[ServerSentEvent]:
    """Streams `delta` events (`text`), then ends with exactly one `done` event
    (`finish_reason`, `usage`, `model`) or one `error` event (`code`, `message`).

    A `: ping` comment is sent every 15 s while the provider is silent. When the server
    stops, an open stream gets `SHUTDOWN_GRACE` seconds, then ends with `shutting_down`.
    """
    try:
        async for event in drain.until_deadline(events):
            if isinstance(event, Delta):
                note_first_token()
                turn.add(event.text)
                yield ServerSentEvent(event="delta", data=event)
            else:
                # The fields a chat store adds are sent only when it sets them.
                done = event.model_copy(update=await turn.complete(event))
                yield ServerSentEvent(
                    event="done", raw_data=done.model_dump_json(exclude_unset=True)
                )
    except InferenceError as exc:
        detail = exc.detail()
    except asyncio.CancelledError:
        logger.info("stream cancelled: the client went away or the server is stopping")
        raise
    except Exception:
        # The 200 status is already sent, so an error event is the only way to tell.
        logger.exception("stream failed")
        detail = ErrorDetail(code="internal_error", message="Internal error.")
    else:
        return
    turn.fail()
    note_error(detail.code)
    yield ServerSentEvent(event="error", data=detail)


@router.post(
    "/chat",
    summary="Answer a chat",
    responses=ERROR_RESPONSES,
    response_model_exclude_unset=True,
)
async def chat(turn: ChatTurnDep, provider: ProviderDep, drain: DrainDep) -> ChatResponse:
    """The whole answer as one JSON document. Provider failures become HTTP errors."""
    async with drain.bounded():
        try:
            answer = await complete(provider, turn.chat)
        except InferenceError as exc:
            turn.fail()
            note_error(exc.code)
            raise
    turn.add(answer.text)
    done = Done(finish_reason=answer.finish_reason, usage=answer.usage, model=answer.model)
    return answer.model_copy(update=await turn.complete(done))
