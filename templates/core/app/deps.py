"""Dependencies shared by the routes; `async def`, as FastAPI runs a plain `def` in a thread."""

from typing import Annotated, cast

from fastapi import Depends, Request
from openai import AsyncOpenAI

from app.config import Settings
from app.inference import ChatProvider, MockProvider, OpenAICompatibleProvider, note_error
from app.shutdown import Drain, shutting_down


async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_openai_client(request: Request) -> AsyncOpenAI | None:
    return cast(AsyncOpenAI | None, request.app.state.openai_client)


OpenAIClientDep = Annotated[AsyncOpenAI | None, Depends(get_openai_client)]


async def get_provider(settings: SettingsDep, client: OpenAIClientDep) -> ChatProvider:
    return MockProvider(settings) if client is None else OpenAICompatibleProvider(client, settings)


ProviderDep = Annotated[ChatProvider, Depends(get_provider)]


async def get_drain(request: Request) -> Drain:
    return cast(Drain, request.app.state.drain)


DrainDep = Annotated[Drain, Depends(get_drain)]


async def accepting(drain: DrainDep) -> None:
    if drain.draining:
        error = shutting_down()
        note_error(error.code)
        raise error
