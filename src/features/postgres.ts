import { ALEMBIC, ASYNCPG, SQLALCHEMY } from "../versions.js";
import { byDistribution } from "./contributions.js";
import type { Feature } from "./types.js";

/** What fly.toml's release_command runs: migrations, on every deploy, before new Machines take traffic. */
export const MIGRATE_COMMAND = "alembic upgrade head";

export const postgres: Feature = {
  id: "postgres",
  description: "PostgreSQL (SQLAlchemy async, Alembic): conversation history and token usage per API key",
  option: {
    label: "PostgreSQL",
    hint: "conversations and usage per key in Postgres (DATABASE_URL); migrations run on every deploy",
    default: false,
  },
  // Its startup comes after the API key and rate limit checks, which name their own settings first.
  after: ["ratelimit", "auth", "observability"],
  contributes: {
    dependencies: byDistribution([SQLALCHEMY, ASYNCPG, ALEMBIC]),
    settingChecks: ["database.configured_url"],
    exceptionHandlers: {
      "database.DatabaseUnavailable": "persistence.database_unavailable",
      "database.ConversationNotFound": "persistence.conversation_not_found",
    },
    lifespans: { database: { state: "database" }, persistence: { state: "chat_store" } },
    routers: ["conversations"],
    settings: {
      database_url: {
        type: "SecretStr | None",
        default: "None",
        example: "",
        description:
          "PostgreSQL URL, postgres:// (as Fly sets it) or postgresql+asyncpg://; unset: nothing is kept, except on Fly.io, where the app then refuses to start.",
        secret: true,
        refused: "mysql://app@db.internal:3306/app",
      },
      database_pool_size: {
        type: "int",
        default: "Field(default=5, ge=1, le=100)",
        example: "5",
        description: "Connections each process keeps open to PostgreSQL.",
        refused: "0",
      },
    },
    schemaFields: {
      "ChatRequest.conversation_id": {
        type: "uuid.UUID | None",
        // Formatted as ruff formats it: schemas.py is written as is.
        default: [
          "Field(",
          "        default=None,",
          "        strict=False,",
          '        description="Continue this conversation (its stored history is sent first), or start it with this new id.",',
          "    )",
        ].join("\n"),
        modules: ["uuid"],
      },
      "Done.conversation_id": { type: "uuid.UUID | None", default: "None", modules: ["uuid"] },
      "Done.message_id": { type: "int | None", default: "None" },
      "Done.stored": {
        type: "bool | None",
        default: ['Field(', '        default=None, description="Whether the answer was stored (with a conversation_id)."', "    )"].join("\n"),
      },
      "ChatResponse.conversation_id": { type: "uuid.UUID | None", default: "None", modules: ["uuid"] },
      "ChatResponse.message_id": { type: "int | None", default: "None" },
      "ChatResponse.stored": { type: "bool | None", default: "None" },
    },
    errorCodes: { database_unavailable: 503, not_found: 404 },
    readinessChecks: { database: { module: "database", function: "database_ready" } },
    flySections: {
      deploy: {
        comment: "Migrations run on every deploy, before new Machines take traffic; a failed one stops the deploy.",
        table: { release_command: MIGRATE_COMMAND },
      },
    },
    dockerfile: {
      alembic: {
        at: "runtime",
        comment: "The release_command's Alembic configuration (the migrations are in app/alembic/).",
        instructions: "COPY --from=builder /app/alembic.ini /app/alembic.ini",
      },
    },
    // flyctl internal/command/mpg/create.go and attach.go: `attach <CLUSTER ID>` sets the app's
    // DATABASE_URL secret (its --variable-name default). The deploy runs both (src/deploy/services.ts).
    provisioning: {
      "postgres-create": {
        command: "fly mpg create",
        description: "a Managed Postgres cluster; note the id it prints",
        service: { kind: "managed-postgres", secret: "DATABASE_URL" },
      },
      "postgres-attach": { command: "fly mpg attach <cluster-id>", description: "sets DATABASE_URL as a secret of the app" },
    },
    docs: { "postgres.md": "PostgreSQL: conversations and usage" },
    readme: {
      postgres: {
        at: "deploy",
        text: [
          "Conversations and usage live in PostgreSQL at `DATABASE_URL` (`fly mpg attach` sets it); fly.toml's",
          "`release_command` runs `alembic upgrade head` on every deploy. With API keys each key sees only its own",
          "conversations and usage; without them, everything is shared by every client. See docs/postgres.md.",
        ].join("\n"),
      },
    },
  },
};
