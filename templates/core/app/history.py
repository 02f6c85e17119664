"""Where a chat's conversation is kept: nowhere, unless a feature's lifespan sets
`app.state.chat_store`.

The chat routes take a turn from the store before the provider is called: the turn sends the
stored history along, and keeps the answer as it is sent.
"""

from collections.abc import AsyncIterator
from typing import Annotated, Any, Protocol

import anyio
from fastapi import Depends, Request

from app.guards import CheckedChat
from app.schemas import ChatRequest, Done


class ChatTurn(Protocol):
    chat: ChatRequest
    """What the provider gets: the stored history, then the request's messages."""

    def add(self, text: str) -> None:
        """A piece of the answer, as it is sent."""
        ...

    def fail(self) -> None:
        """The provider failed: the answer so far is partial."""
        ...

    async def complete(self, done: Done) -> dict[str, Any]:
        """Keeps the whole answer; returns what the `done` event adds (e.g. the message id)."""
        ...

    async def close(self) -> None:
        """The response is over: keeps a partial answer, marked, unless `complete` kept it."""
        ...


class ChatStore(Protocol):
    async def begin(self, chat: ChatRequest, request: Request) -> ChatTurn:
        """Keeps the request's messages, or raises before the provider is called."""
        ...


class UnkeptTurn:
    """A chat that is not kept: the provider gets the request's messages only."""

    def __init__(self, chat: ChatRequest) -> None:
        self.chat = chat

    def add(self, text: str) -> None:
        pass

    def fail(self) -> None:
        pass

    async def complete(self, done: Done) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        pass


async def chat_turn(chat: CheckedChat, request: Request) -> AsyncIterator[ChatTurn]:
    store: ChatStore | None = getattr(request.app.state, "chat_store", None)
    turn = UnkeptTurn(chat) if store is None else await store.begin(chat, request)
    try:
        yield turn
    finally:
        # Also when the client left: its cancellation must not stop the answer being kept.
        with anyio.CancelScope(shield=True):
            await turn.close()


ChatTurnDep = Annotated[ChatTurn, Depends(chat_turn, scope="request")]
