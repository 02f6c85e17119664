"""Alembic's environment: migrations run over asyncpg, at DATABASE_URL (or in .env)."""

import asyncio
from logging.config import fileConfig

from alembic import context
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.database import database_url
from app.models import Base


class MigrationSettings(BaseSettings):
    """Only what migrations need: the rest of the app's settings may be absent here."""

    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    database_url: SecretStr


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    url = database_url(MigrationSettings().database_url.get_secret_value())
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name)
if context.is_offline_mode():
    raise SystemExit("offline migrations (--sql) are not set up: run them against the database")
asyncio.run(run_online())
