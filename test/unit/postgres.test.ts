/** The --postgres feature's plan: everything it adds reaches the shared files through its contributions. */
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import type { ProjectOptions } from "../../src/options.js";
import { planProject, type Plan } from "../../src/plan.js";
import { resolveOptions } from "../../src/resolve.js";

const planFor = async (features: Record<string, boolean>, given: Partial<ProjectOptions> = {}) => {
  const options = await resolveOptions({ directory: "my-api", install: false, git: false, ...given }, { kind: "defaults" });
  return planProject({ ...options, features: { ...options.features, ...features } });
};

const file = (plan: Plan, name: string) => {
  const found = plan.files.find((f) => f.path === name);
  if (!found) throw new Error(`${name} is not in the plan`);
  return found.content;
};

describe("--postgres", () => {
  it("runs the migrations as fly.toml's release_command, with alembic.ini in the image", async () => {
    for (const pythonTool of ["uv", "pip"] as const) {
      const plan = await planFor({ postgres: true }, { pythonTool });
      expect((parseToml(file(plan, "fly.toml")) as { deploy?: unknown }).deploy).toEqual({ release_command: "alembic upgrade head" });
      const dockerfile = file(plan, "Dockerfile");
      const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
      expect(finalStage).toContain("COPY --from=builder /app/alembic.ini /app/alembic.ini\n");
      expect(finalStage.indexOf("alembic.ini")).toBeLessThan(finalStage.indexOf("USER 999:999"));
      expect(file(plan, ".dockerignore")).not.toMatch(/^alembic/m);
      expect(plan.files.map((f) => f.path)).toEqual(
        expect.arrayContaining(["alembic.ini", "app/alembic/env.py", "app/alembic/script.py.mako", "app/alembic/versions/0001_conversations.py"]),
      );
      const pyproject = file(plan, "pyproject.toml");
      for (const name of ["sqlalchemy[asyncio]==", "asyncpg==", "alembic=="]) expect(pyproject).toContain(`"${name}`);
    }
  });

  it("adds its settings, fields, error codes, readiness check, lifespans and routes to core's files", async () => {
    const plan = await planFor({ postgres: true });
    expect(file(plan, "app/config.py")).toContain("    database_url: SecretStr | None = None\n");
    expect(file(plan, ".env.example")).toMatch(/^DATABASE_URL=$/m);
    expect(file(plan, "README.md")).toMatch(/^\| `DATABASE_URL` \| secret \| PostgreSQL URL/m);
    const schemas = file(plan, "app/schemas.py");
    expect(schemas).toMatch(/^import uuid$/m);
    expect(schemas).toContain('    "database_unavailable",\n');
    expect(schemas).toContain("    conversation_id: uuid.UUID | None = Field(\n");
    expect(schemas).toContain("    stored: bool | None = Field(\n");
    expect(file(plan, "app/routes/health.py")).toContain('        "database": await database.database_ready(request.app),\n');
    // The counter of what it counts, where it counts it; observability's metrics serve it.
    expect(file(plan, "app/persistence.py")).toMatch(/= Counter\(\n {4}"chat_answers_not_stored", /);
    // Its startup follows the key and rate limit checks: its lifespans and setting check come last.
    const lifespan = file(plan, "app/lifespan.py");
    expect(lifespan).toMatch(/observability\.lifespan\(settings\) as app\.state\.metrics,\n {12}database\.lifespan\(settings\) as app\.state\.database,\n {12}persistence\.lifespan\(settings\) as app\.state\.chat_store,\n/);
    expect(lifespan).toMatch(/observability\.check_metrics_host\(settings\)\n {4}database\.configured_url\(settings\)\n/);
    expect(file(plan, "app/api.py")).toContain("api_router.include_router(conversations.router)\n");
    expect(file(plan, "app/api.py")).toContain("    database.DatabaseUnavailable: persistence.database_unavailable,\n");
    expect(plan.deploy.provisioning.map((step) => step.command)).toEqual(["fly mpg create", "fly mpg attach <cluster-id>"]);
    expect(file(plan, "README.md")).toContain("- [PostgreSQL: conversations and usage](docs/postgres.md)");
  });

  it("is off by default, and then leaves no trace", async () => {
    const plan = await planFor({});
    expect(plan.features).not.toContain("postgres");
    expect(parseToml(file(plan, "fly.toml"))).not.toHaveProperty("deploy");
    expect(plan.files.some((f) => f.path.includes("alembic"))).toBe(false);
    for (const name of ["app/schemas.py", "app/config.py", "app/lifespan.py", "app/api.py", "Dockerfile", "README.md", "app/main.py"]) {
      expect(file(plan, name)).not.toMatch(/conversation|database|alembic/i);
    }
  });
});
