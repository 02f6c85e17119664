import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from app.config import Settings
from app.main import create_app
from tests.fake_upstream import FakeUpstream
from tests.support import TEST_KEY, Stopping, make_settings, serve


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the settings they pass: never a key or URL from the shell or CI."""
    for name, field in Settings.model_fields.items():
        monkeypatch.delenv(name.upper(), raising=False)
        alias = field.validation_alias
        for env_name in getattr(alias, "choices", [alias]):
            if isinstance(env_name, str):
                monkeypatch.delenv(env_name, raising=False)


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The app with the offline mock provider."""
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[tuple[FakeUpstream, str]]:
    fake = FakeUpstream()
    with serve(fake.app, lifespan="off") as url:
        yield fake, url
        fake.reset()  # lets any held answer end before the server stops


@pytest.fixture
def upstream(upstream_server: tuple[FakeUpstream, str]) -> Iterator[FakeUpstream]:
    """The fake OpenAI-compatible API, with a fresh script for this test."""
    fake, _ = upstream_server
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture
def upstream_settings(upstream_server: tuple[FakeUpstream, str]) -> Settings:
    _, url = upstream_server
    return make_settings(
        provider="openai-compatible", base_url=f"{url}/v1", INFERENCE_API_KEY=TEST_KEY
    )


@pytest.fixture
def upstream_app(upstream_settings: Settings, upstream: FakeUpstream) -> FastAPI:
    """The app calling the fake upstream."""
    return create_app(upstream_settings)


@pytest.fixture
def upstream_client(upstream_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(upstream_app) as test_client:
        yield test_client


@pytest.fixture
def stopping(upstream_settings: Settings, upstream: FakeUpstream) -> Iterator[Stopping]:
    """The app calling the fake upstream, served live, with a 0.5 s SHUTDOWN_GRACE."""
    app = create_app(upstream_settings.model_copy(update={"shutdown_grace": 0.5}))
    loops: list[asyncio.AbstractEventLoop] = []

    async def remember_loop(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # the first call, on the server's loop
            loops.append(asyncio.get_running_loop())
        await app(scope, receive, send)

    with serve(remember_loop) as url:
        yield Stopping(app, url, loops[0])
