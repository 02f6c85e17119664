"""Conversations and usage kept in PostgreSQL: the chat store of the chat routes.

A chat with a `conversation_id` gets that conversation's history sent before its messages;
its messages are stored before the provider is called (or the request fails with 503), and
the answer when the response ends: complete, or partial and marked when the client left or
the provider failed. Every chat adds its tokens to its API key's usage of the day.
"""

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.database import (
    ConversationNotFound,
    DatabaseUnavailable,
    has_database,
    session_of,
)
from app.history import ChatTurn
from app.models import Conversation, DailyUsage, Message
from app.schemas import (
    ERROR_STATUS,
    ChatMessage,
    ChatRequest,
    Done,
    ErrorDetail,
    ErrorResponse,
    Usage,
)

logger = logging.getLogger(__name__)

ANSWERS_NOT_STORED = Counter(
    "chat_answers_not_stored", "Answers of a conversation that the database did not take."
)
USAGE_NOT_RECORDED = Counter(
    "usage_not_recorded", "Chats whose token usage the database did not take."
)


def owner_of(request: Request) -> str:
    """Whose the conversations and usage are: the API key's fingerprint (set by the API key
    check, when there is one), else "" and everything is shared."""
    owner: str | None = getattr(request.state, "api_key_id", None)
    return owner or ""


def counted_tokens(text: str) -> int:
    """An estimate for a provider that reports no usage: one token a word."""
    return len(text.split())


def bounded_history(
    stored: list[Message], chat: ChatRequest, settings: Settings
) -> list[ChatMessage]:
    """The latest stored messages that fit, with the request's, in the limits of one chat."""
    room = settings.max_messages - len(chat.messages)
    chars = settings.max_prompt_chars - sum(len(m.content) for m in chat.messages)
    kept: list[ChatMessage] = []
    for message in reversed(stored):
        if room <= 0 or len(message.content) > chars:
            break
        if not message.content:  # an answer that failed before its first token
            continue
        kept.append(ChatMessage.model_validate({"role": message.role, "content": message.content}))
        room -= 1
        chars -= len(message.content)
    return kept[::-1]


async def add_usage(session: AsyncSession, owner: str, usage: Usage) -> None:
    row = {
        "owner": owner,
        "day": datetime.now(UTC).date(),
        "requests": 1,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
    }
    statement = insert(DailyUsage).values(row)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[DailyUsage.owner, DailyUsage.day],
            set_={
                "requests": DailyUsage.requests + 1,
                "prompt_tokens": DailyUsage.prompt_tokens + statement.excluded.prompt_tokens,
                "completion_tokens": DailyUsage.completion_tokens
                + statement.excluded.completion_tokens,
            },
        )
    )


class Turn(ChatTurn):
    """One chat: its answer as it is sent, kept once, and its usage added once."""

    def __init__(
        self, app: FastAPI, chat: ChatRequest, owner: str, conversation: uuid.UUID | None
    ) -> None:
        super().__init__(chat)
        self.app = app
        self.owner = owner
        self.conversation = conversation
        self.parts: list[str] = []
        self.failed = False
        # Once tried, never again: a `done` that said `stored: false` must stay true.
        self.finished = False
        self.reported: Usage | None = None

    def add(self, text: str) -> None:
        self.parts.append(text)

    def fail(self) -> None:
        self.failed = True

    def usage(self, reported: Usage | None) -> Usage:
        if reported is not None:
            return reported
        prompt = sum(counted_tokens(m.content) for m in self.chat.messages)
        answer = counted_tokens("".join(self.parts))
        return Usage(prompt_tokens=prompt, completion_tokens=answer, total_tokens=prompt + answer)

    async def keep(self, usage: Usage, interruption: str | None) -> int | None:
        """Stores the answer (with a conversation) and the usage; the answer's id, or None."""
        self.finished = True
        async with session_of(self.app) as session, session.begin():
            message_id = None
            if self.conversation is not None:
                message = Message(
                    conversation_id=self.conversation,
                    role="assistant",
                    content="".join(self.parts),
                    status="complete" if interruption is None else "partial",
                    interruption=interruption,
                )
                session.add(message)
                await session.execute(
                    update(Conversation)
                    .where(Conversation.id == self.conversation)
                    .values(updated_at=datetime.now(UTC))
                )
                await session.flush()
                message_id = message.id
            await add_usage(session, self.owner, usage)
        return message_id

    async def complete(self, done: Done) -> dict[str, Any]:
        if self.conversation is None:
            self.reported = done.usage
            return {}  # the usage is added in close(), once the answer went out
        try:
            message_id = await self.keep(self.usage(done.usage), None)
        except DatabaseUnavailable:
            logger.error("the answer of conversation %s was not stored", self.conversation)
            ANSWERS_NOT_STORED.inc()
            USAGE_NOT_RECORDED.inc()
            return {"conversation_id": self.conversation, "stored": False}
        return {"conversation_id": self.conversation, "message_id": message_id, "stored": True}

    async def close(self) -> None:
        if self.finished or not has_database(self.app):
            return
        interruption = "provider_failed" if self.failed else "client_left"
        try:
            await self.keep(self.usage(self.reported), interruption)
        except DatabaseUnavailable:
            if self.conversation is not None:
                logger.error(
                    "the partial answer of conversation %s was not stored", self.conversation
                )
                ANSWERS_NOT_STORED.inc()
            logger.warning("the usage of a chat was not recorded")
            USAGE_NOT_RECORDED.inc()


class PostgresHistory:
    async def begin(self, chat: ChatRequest, request: Request) -> ChatTurn:
        owner = owner_of(request)
        conversation = chat.conversation_id
        if conversation is None:
            return Turn(request.app, chat, owner, None)
        settings: Settings = request.app.state.settings
        async with session_of(request.app) as session, session.begin():
            # Started by its first chat: the id is the client's (a UUID), the owner the caller.
            await session.execute(
                insert(Conversation)
                .values(id=conversation, owner=owner)
                .on_conflict_do_nothing(index_elements=[Conversation.id])
            )
            found = await session.get(Conversation, conversation, with_for_update=True)
            if found is None or found.owner != owner:
                raise ConversationNotFound()
            stored = (
                await session.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation)
                    .order_by(Message.id.desc())
                    .limit(settings.max_messages)
                )
            ).all()
            history = bounded_history(list(reversed(stored)), chat, settings)
            session.add_all(
                Message(
                    conversation_id=conversation, role=m.role, content=m.content, status="complete"
                )
                for m in chat.messages
            )
        full = chat.model_copy(update={"messages": [*history, *chat.messages]})
        return Turn(request.app, full, owner, conversation)


@asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[PostgresHistory]:
    """The chat store of the chat routes (`app.state.chat_store`)."""
    yield PostgresHistory()


def error_response(detail: ErrorDetail) -> JSONResponse:
    body = ErrorResponse(error=detail).model_dump()
    return JSONResponse(body, status_code=ERROR_STATUS[detail.code])


async def database_unavailable(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
    return error_response(ErrorDetail(code="database_unavailable", message=exc.message))


async def conversation_not_found(request: Request, exc: ConversationNotFound) -> JSONResponse:
    return error_response(ErrorDetail(code="not_found", message="No such conversation."))
