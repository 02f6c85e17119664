"""PostgreSQL: one engine per process, opened in the lifespan, and a session per request.

DATABASE_URL takes the form Fly sets (`postgres://`) as well as SQLAlchemy's
(`postgresql+asyncpg://`). The engine connects on first use, so the app starts, and `/healthz`
answers, while the database is down: only what needs the database answers 503.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import asyncpg  # type: ignore[import-untyped]  # ships no type hints
from fastapi import Depends, FastAPI, Request
from sqlalchemy import URL, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import SettingError, Settings

logger = logging.getLogger(__name__)

DRIVERS = {"postgres", "postgresql", "postgresql+asyncpg"}
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a connection: a database that is down fails a request quickly."""
STATEMENT_TIMEOUT = 10.0
"""Seconds one statement may take: the app's are small, a stuck one should not hold a request."""

DATABASE_ERRORS = (SQLAlchemyError, asyncpg.PostgresError, OSError, TimeoutError)
"""What a database that is down, unreachable or overloaded raises."""


class DatabaseUnavailable(Exception):
    """The database did not take a read or a write: the request answers 503."""

    def __init__(self, message: str = "The database is unavailable; retry later.") -> None:
        super().__init__(message)
        self.message = message


class ConversationNotFound(Exception):
    """No conversation of the caller's has this id (another key's answers the same)."""


def database_url(raw: str) -> URL:
    """The asyncpg URL of DATABASE_URL; raises with a message that never shows the password."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingError(
            "DATABASE_URL is not a URL such as postgres://user:password@host:5432/db"
        ) from None
    if url.drivername not in DRIVERS:
        raise SettingError(
            f"DATABASE_URL must start with postgres:// or postgresql+asyncpg://, not {url.drivername}://"
        )
    if not url.host or not url.database:
        raise SettingError("DATABASE_URL needs a host and a database name")
    query = dict(url.query)
    # libpq's sslmode (in Fly's URLs) is asyncpg's ssl, which takes the same values.
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    return url.set(drivername="postgresql+asyncpg", query=query)


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


def open_engine(url: URL, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        # A connection the database closed (a restart, a failover) is replaced, not handed out.
        pool_pre_ping=True,
        connect_args={"timeout": CONNECT_TIMEOUT, "command_timeout": STATEMENT_TIMEOUT},
    )


def get_database(app: FastAPI) -> Database:
    database: Database | None = getattr(app.state, "database", None)
    if database is None:
        raise DatabaseUnavailable("No database is configured: set DATABASE_URL.")
    return database


@asynccontextmanager
async def session_of(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session whose database failures come out as `DatabaseUnavailable`."""
    try:
        async with get_database(app).sessions() as session:
            yield session
    except DATABASE_ERRORS as exc:
        logger.warning("database error: %s", type(exc).__name__)
        raise DatabaseUnavailable() from exc


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with session_of(request.app) as session:
        yield session


# Closed when the route returns, so a database error becomes its 503 answer.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def has_database(app: FastAPI) -> bool:
    return getattr(app.state, "database", None) is not None


async def database_ready(app: FastAPI) -> bool:
    """True when the database answers; also when none is configured (nothing is kept then)."""
    database: Database | None = getattr(app.state, "database", None)
    if database is None:
        return True
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except DATABASE_ERRORS:
        return False
    return True


def configured_url(settings: Settings) -> URL | None:
    """DATABASE_URL as the engine takes it; None when unset, which only a local run may be.
    Also a check of create_app(), so a bad value stops the app before the server listens."""
    if settings.database_url is None:
        if settings.fly_app_name:
            raise SettingError("DATABASE_URL is not set: attach a database with `fly mpg attach`")
        return None
    return database_url(settings.database_url.get_secret_value())


@asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[Database | None]:
    """The engine of this process (`app.state.database`), disposed of at shutdown."""
    url = configured_url(settings)
    if url is None:
        logger.warning("DATABASE_URL is not set: conversations and usage are not kept")
        yield None
        return
    engine = open_engine(url, settings)
    try:
        yield Database(engine, async_sessionmaker(engine, expire_on_commit=False))
    finally:
        await engine.dispose()
