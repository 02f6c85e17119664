"""Where a chat's conversation is kept: nowhere, unless a feature's lifespan sets
`app.state.chat_store`. A turn, taken before the provider is called, sends the stored history
along and keeps the answer as it is sent.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import anyio
from fastapi import Depends, Request

from app.guards import CheckedChat
from app.schemas import ChatRequest, Done


class ChatTurn(Protocol):
    chat: ChatRequest  # what the provider gets: the stored history, then the request's messages

    def add(self, text: str) -> None: ...  # a piece of the answer, as it is sent

    def fail(self) -> None: ...  # the provider failed: the answer so far is partial

    # Keeps the whole answer; returns what the `done` event adds (e.g. the message id).
    async def complete(self, done: Done) -> dict[str, Any]: ...

    # The response is over: keeps a partial answer, marked, unless `complete` kept it.
    async def close(self) -> None: ...


class ChatStore(Protocol):
    # Keeps the request's messages, or raises before the provider is called.
    async def begin(self, chat: ChatRequest, request: Request) -> ChatTurn: ...


@dataclass
class UnkeptTurn:
    """A chat that is not kept: the provider gets the request's messages only."""

    chat: ChatRequest

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
