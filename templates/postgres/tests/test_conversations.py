"""Conversations and usage in a real PostgreSQL (see tests/postgres_server.py)."""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import SettingError, Settings
from app.database import database_url
from app.main import create_app
from tests.postgres_server import Postgres, available, free_port, postgres_server
from tests.support import Event, make_settings, parse_events

PROJECT = Path(__file__).resolve().parents[1]
UNAVAILABLE = available()
needs_postgres = pytest.mark.skipif(UNAVAILABLE is not None, reason=UNAVAILABLE or "")
KEY_A = "sk-test-key-a-0123456789abcdef"
KEY_B = "sk-test-key-b-0123456789abcdef"
HAS_KEYS = "api_keys" in Settings.model_fields


def alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        migrated = alembic(server.url, "upgrade", "head")
        assert migrated.returncode == 0, migrated.stderr
        yield server


@pytest.fixture
def database(postgres: Postgres) -> str:
    """The database's URL, its tables emptied."""

    async def empty() -> None:
        engine = create_async_engine(database_url(postgres.url))
        async with engine.begin() as connection:
            await connection.execute(text("TRUNCATE conversations, messages, usage"))
        await engine.dispose()

    asyncio.run(empty())
    return postgres.url


def app_with(url: str, **settings: Any) -> TestClient:
    if HAS_KEYS:
        settings.setdefault("api_keys", f"{KEY_A},{KEY_B}")
    return TestClient(create_app(make_settings(database_url=url, **settings)))


def headers(key: str = KEY_A) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if HAS_KEYS else {}


def stream(client: TestClient, content: str, conversation: uuid.UUID | None, key: str = KEY_A):
    body: dict[str, Any] = {"messages": [{"role": "user", "content": content}]}
    if conversation is not None:
        body["conversation_id"] = str(conversation)
    return client.post("/v1/chat/stream", json=body, headers=headers(key))


def done_of(events: list[Event]) -> dict[str, Any]:
    assert events[-1].event == "done", events
    done: dict[str, Any] = events[-1].json()
    return done


def test_database_url_takes_the_fly_form_and_hides_the_password() -> None:
    url = database_url("postgres://app:s3cret@db.internal:5432/app?sslmode=require")
    assert url.drivername == "postgresql+asyncpg"
    assert url.query == {"ssl": "require"}
    assert database_url("postgresql+asyncpg://app:pw@localhost/app").host == "localhost"
    for malformed in ("not a url", "mysql://app:s3cret@db/app", "postgres://app:s3cret@/"):
        with pytest.raises(SettingError, match="DATABASE_URL") as raised:
            database_url(malformed)
        assert "s3cret" not in str(raised.value)
        assert "\n" not in str(raised.value)


def test_a_malformed_database_url_stops_startup() -> None:
    with pytest.raises(SettingError, match="DATABASE_URL") as raised:
        create_app(make_settings(database_url="mysql://app:s3cret@db/app"))
    assert "s3cret" not in str(raised.value)


def test_no_database_url_on_fly_stops_startup() -> None:
    keys = {"api_keys": KEY_A} if HAS_KEYS else {}
    with pytest.raises(SettingError, match="DATABASE_URL is not set"):
        create_app(make_settings(fly_app_name="my-api", **keys))


@needs_postgres
def test_a_conversation_keeps_its_history_and_sends_it_to_the_provider(database: str) -> None:
    conversation = uuid.uuid4()
    with app_with(database) as client:
        first = done_of(parse_events(stream(client, "one two three", conversation).text))
        assert first["conversation_id"] == str(conversation)
        assert first["stored"] is True
        assert isinstance(first["message_id"], int)
        # The mock counts every word it was sent: the stored question and answer came along.
        second = done_of(parse_events(stream(client, "four", conversation).text))
        assert second["usage"]["prompt_tokens"] == 3 + 3 + 1
        assert second["message_id"] > first["message_id"]

        stored = client.get(f"/v1/conversations/{conversation}", headers=headers()).json()
        assert [(m["role"], m["content"], m["status"]) for m in stored["messages"]] == [
            ("user", "one two three", "complete"),
            ("assistant", "one two three", "complete"),
            ("user", "four", "complete"),
            ("assistant", "four", "complete"),
        ]
        answer = client.post(
            "/v1/chat",
            json={
                "messages": [{"role": "user", "content": "five"}],
                "conversation_id": str(conversation),
            },
            headers=headers(),
        ).json()
        assert answer["text"] == "five"
        assert answer["stored"] is True


@needs_postgres
def test_conversations_are_listed_paginated_and_deleted(database: str) -> None:
    conversations = [uuid.uuid4() for _ in range(3)]
    with app_with(database) as client:
        for conversation in conversations:
            assert stream(client, "hi", conversation).status_code == 200
        first = client.get("/v1/conversations?limit=2", headers=headers()).json()
        assert len(first["data"]) == 2
        assert first["has_more"] is True
        rest = client.get("/v1/conversations?limit=2&offset=2", headers=headers()).json()
        assert rest["has_more"] is False
        listed = {c["id"] for c in first["data"] + rest["data"]}
        assert listed == {str(c) for c in conversations}
        assert all(c["messages"] == 2 for c in first["data"])

        gone = conversations[0]
        assert client.delete(f"/v1/conversations/{gone}", headers=headers()).status_code == 204
        missing = client.get(f"/v1/conversations/{gone}", headers=headers())
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"


@needs_postgres
def test_usage_adds_up_per_day(database: str) -> None:
    with app_with(database) as client:
        stream(client, "one two", None)
        stream(client, "three", uuid.uuid4())
        usage = client.get("/v1/usage", headers=headers()).json()["data"]
        assert len(usage) == 1
        assert usage[0]["requests"] == 2
        assert usage[0]["prompt_tokens"] == 3
        assert usage[0]["completion_tokens"] == 3


@needs_postgres
@pytest.mark.skipif(not HAS_KEYS, reason="without API keys everything is shared")
def test_a_key_sees_only_its_own(database: str) -> None:
    conversation = uuid.uuid4()
    with app_with(database) as client:
        assert stream(client, "mine", conversation, KEY_A).status_code == 200
        theirs = client.get(f"/v1/conversations/{conversation}", headers=headers(KEY_B))
        assert theirs.status_code == 404
        assert stream(client, "let me in", conversation, KEY_B).status_code == 404
        assert (
            client.delete(f"/v1/conversations/{conversation}", headers=headers(KEY_B)).status_code
            == 404
        )
        assert client.get("/v1/conversations", headers=headers(KEY_B)).json()["data"] == []
        assert client.get("/v1/usage", headers=headers(KEY_B)).json()["data"] == []
        mine = client.get(f"/v1/conversations/{conversation}", headers=headers(KEY_A))
        assert len(mine.json()["messages"]) == 2


def test_without_the_database_only_conversations_fail() -> None:
    # A port nothing listens on: the database is down.
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/app"
    with app_with(down) as client:
        refused = stream(client, "remember this", uuid.uuid4())
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "database_unavailable"
        assert (
            done_of(parse_events(stream(client, "no history", None).text))["finish_reason"]
            == "stop"
        )
        assert client.get("/v1/conversations", headers=headers()).status_code == 503
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] is False


@needs_postgres
def test_migrations_match_the_models(postgres: Postgres) -> None:
    checked = alembic(postgres.url, "check")
    assert checked.returncode == 0, checked.stderr
    assert "No new upgrade operations detected" in checked.stdout
