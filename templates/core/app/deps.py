"""Dependencies shared by the routes.

They are `async def` although they never await: FastAPI runs a plain `def` dependency in its
thread pool, a hop per request that costs more than the work itself.
"""

from typing import Annotated

from fastapi import Depends, Request
from openai import AsyncOpenAI

from app.config import Settings
from app.inference import ChatProvider, MockProvider, OpenAICompatibleProvider
from app.shutdown import Drain, shutting_down


async def get_settings(request: Request) -> Settings:
    """The settings the app was built for (`create_app(settings)`)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_openai_client(request: Request) -> AsyncOpenAI | None:
    """The client the lifespan created; None when the provider is the mock."""
    client: AsyncOpenAI | None = request.app.state.openai_client
    return client


OpenAIClientDep = Annotated[AsyncOpenAI | None, Depends(get_openai_client)]


async def get_provider(settings: SettingsDep, client: OpenAIClientDep) -> ChatProvider:
    if client is None:
        return MockProvider(model=settings.model, token_delay=settings.mock_token_delay)
    return OpenAICompatibleProvider(client, settings)


ProviderDep = Annotated[ChatProvider, Depends(get_provider)]


async def get_drain(request: Request) -> Drain:
    """The app's graceful shutdown: new chats are refused once it began."""
    drain: Drain = request.app.state.drain
    return drain


DrainDep = Annotated[Drain, Depends(get_drain)]


async def accepting(drain: DrainDep) -> None:
    if drain.draining:
        raise shutting_down()
