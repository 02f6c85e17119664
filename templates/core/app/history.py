"""Where a chat's conversation is kept: nowhere, unless a feature's lifespan sets
`app.state.chat_store`, whose turns keep what this one lets go."""

from collections.abc import AsyncIterator
from typing import Annotated, Any, Protocol

import anyio
from fastapi import Depends, Request

from app.guards import CheckedChat
from app.schemas import ChatRequest, Done


class ChatTurn:
    """One chat, taken before the provider is called; this one keeps nothing."""

    def __init__(self, chat: ChatRequest) -> None:
        self.chat = chat  # what the provider gets: any stored history, then the request's messages

    def add(self, text: str) -> None:
        """A piece of the answer, as it is sent."""

    def fail(self) -> None:
        """The provider failed: the answer so far is partial."""

    async def complete(self, done: Done) -> dict[str, Any]:
        """Keeps the whole answer; returns the fields the `done` event adds."""
        return {}

    async def close(self) -> None:
        """The response is over: keeps a partial answer, marked, unless `complete` kept it."""


class ChatStore(Protocol):
    async def begin(self, chat: ChatRequest, request: Request) -> ChatTurn:
        """Keeps the request's messages, or raises before the provider is called."""
        ...


async def chat_turn(chat: CheckedChat, request: Request) -> AsyncIterator[ChatTurn]:
    store: ChatStore | None = getattr(request.app.state, "chat_store", None)
    turn = ChatTurn(chat) if store is None else await store.begin(chat, request)
    try:
        yield turn
    finally:
        # Also when the client left: its cancellation must not stop the answer being kept.
        with anyio.CancelScope(shield=True):
            await turn.close()


ChatTurnDep = Annotated[ChatTurn, Depends(chat_turn, scope="request")]
