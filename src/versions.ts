/**
 * Versions pinned into generated projects. One place to bump them; the
 * end-to-end tests install exactly these.
 */
export const PYTHON_IMAGE = "3.13-slim";
export const PYTHON_REQUIRES = ">=3.11";
export const UV_VERSION = "0.13.9";

/** Runtime dependencies of every generated project (PEP 508, pinned). */
export const PYTHON_DEPENDENCIES = [
  "fastapi==0.165.0",
  "uvicorn[standard]==0.54.0",
  "openai==3.57.0",
  // openai 3.x talks HTTP through httpx2; the app catches httpx2's errors and the tests use its client.
  "httpx2==2.16.2",
  "pydantic-settings==2.16.3",
];

/** Development dependencies of every generated project. */
export const PYTHON_DEV_DEPENDENCIES = ["pytest==9.2.0", "ruff==0.17.6", "mypy==2.4.1", "fastapi-cli==0.0.34"];

/**
 * MCP server of the mcp feature: FastMCP builds its tools from the app's OpenAPI schema
 * (FastMCP.from_fastapi) on top of the official `mcp` SDK.
 */
export const FASTMCP = "fastmcp==4.2.3";

/** Actions the generated GitHub workflow uses (the github-actions feature); its dependabot.yml keeps them current. */
export const GITHUB_ACTIONS = {
  checkout: "actions/checkout@v6",
  setupPython: "actions/setup-python@v6",
  // Fly.io's documented way to install flyctl in a workflow.
  setupFlyctl: "superfly/flyctl-actions/setup-flyctl@master",
} as const;

/** Production hardening (ratelimit, observability features). */
export const LIMITS = "limits==5.8.0";
/** The Redis client `limits` uses when REDIS_URL is set (its `redispy` implementation). */
export const REDIS = "redis==8.1.0";
export const PROMETHEUS_CLIENT = "prometheus-client==0.26.0";

/** Persistence (postgres feature): SQLAlchemy 2 async over asyncpg, migrations with Alembic. */
export const SQLALCHEMY = "sqlalchemy[asyncio]==2.1.9";
export const ASYNCPG = "asyncpg==0.32.0";
export const ALEMBIC = "alembic==1.20.1";
