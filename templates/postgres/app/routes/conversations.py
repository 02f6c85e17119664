"""Stored conversations and token usage, each caller's own (with API keys: a key's own)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, select

from app.database import ConversationNotFound, SessionDep
from app.models import Conversation, DailyUsage, Message
from app.persistence import owner_of
from app.schemas import ErrorResponse

router = APIRouter(prefix="/v1", tags=["conversations"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "The database is unavailable; retry"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No conversation of the caller's has this id"},
    **RESPONSES,
}

Limit = Annotated[int, Query(ge=1, le=100, description="Items on one page.")]
Offset = Annotated[int, Query(ge=0, description="Items to skip: the previous pages' count.")]


class ConversationSummary(BaseModel):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    messages: int


class ConversationPage(BaseModel):
    data: list[ConversationSummary]
    has_more: bool


class StoredMessage(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    role: str
    content: str
    status: str
    """`complete`, or `partial` for an answer cut short."""
    interruption: str | None
    """Why a partial answer stopped: `client_left` or `provider_failed`."""
    created_at: datetime


class ConversationDetail(BaseModel):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    messages: list[StoredMessage]
    has_more: bool
    """More messages follow this page."""


class DayUsage(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    requests: int
    prompt_tokens: int
    completion_tokens: int


class UsageReport(BaseModel):
    data: list[DayUsage]
    """The days with any usage, latest first (UTC days)."""


async def owned(session: SessionDep, request: Request, conversation_id: uuid.UUID) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.owner != owner_of(request):
        raise ConversationNotFound()
    return conversation


@router.get(
    "/conversations",
    summary="List your conversations, latest first",
    responses=RESPONSES,
)
async def list_conversations(
    session: SessionDep, request: Request, limit: Limit = 20, offset: Offset = 0
) -> ConversationPage:
    messages = (
        select(func.count(Message.id))
        .where(Message.conversation_id == Conversation.id)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Conversation, messages)
            .where(Conversation.owner == owner_of(request))
            .order_by(Conversation.updated_at.desc(), Conversation.id)
            .offset(offset)
            .limit(limit + 1)
        )
    ).all()
    data = [
        ConversationSummary(id=c.id, created_at=c.created_at, updated_at=c.updated_at, messages=n)
        for c, n in rows[:limit]
    ]
    return ConversationPage(data=data, has_more=len(rows) > limit)


@router.get(
    "/conversations/{conversation_id}",
    summary="A conversation and its messages, oldest first",
    responses=NOT_FOUND,
)
async def get_conversation(
    conversation_id: uuid.UUID,
    session: SessionDep,
    request: Request,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ConversationDetail:
    conversation = await owned(session, request, conversation_id)
    rows = (
        await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.id)
            .offset(offset)
            .limit(limit + 1)
        )
    ).all()
    return ConversationDetail(
        id=conversation.id,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        messages=[StoredMessage.model_validate(m) for m in rows[:limit]],
        has_more=len(rows) > limit,
    )


@router.delete(
    "/conversations/{conversation_id}",
    summary="Delete a conversation and its messages",
    status_code=204,
    responses=NOT_FOUND,
)
async def delete_conversation(
    conversation_id: uuid.UUID, session: SessionDep, request: Request
) -> Response:
    async with session.begin():
        conversation = await owned(session, request, conversation_id)
        await session.execute(delete(Conversation).where(Conversation.id == conversation.id))
    return Response(status_code=204)


@router.get(
    "/usage",
    summary="Your tokens in and out per day",
    responses=RESPONSES,
)
async def get_usage(
    session: SessionDep,
    request: Request,
    days: Annotated[int, Query(ge=1, le=366, description="How many days back.")] = 30,
) -> UsageReport:
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    rows = (
        await session.scalars(
            select(DailyUsage)
            .where(DailyUsage.owner == owner_of(request), DailyUsage.day >= since)
            .order_by(DailyUsage.day.desc())
        )
    ).all()
    return UsageReport(data=[DayUsage.model_validate(u) for u in rows])
