/**
 * The feature model: a feature defined here, and nowhere else, reaches every shared output
 * through its contributions; features are ordered by their relations; a key two features
 * contribute is an error.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { FEATURES, type Feature } from "../../src/features/index.js";
import type { ProjectOptions } from "../../src/options.js";
import { planProject, type Plan } from "../../src/plan.js";
import { resolveOptions } from "../../src/resolve.js";
import { REPO_ROOT } from "../support/tools.js";

/** A task queue: everything it needs from the shared files, declared as data. */
const queue: Feature = {
  id: "queue",
  description: "A task queue for long-running jobs",
  option: { label: "Task queue", hint: "jobs run beside the API", default: false },
  contributes: {
    dependencies: { arq: "arq==0.26.3" },
    settings: {
      queue_url: {
        type: "SecretStr | None",
        default: "None",
        example: "",
        description: "redis:// URL of the queue's Redis.",
        secret: true,
        refused: "http://queue.internal:6379",
      },
      queue_concurrency: {
        type: "int",
        default: "Field(default=4, ge=1)",
        example: "4",
        description: "Jobs one worker runs at once.",
        refused: "0",
      },
    },
    flyEnv: { QUEUE_NAME: { value: "jobs", comment: "The queue workers read." } },
    flySections: { processes: { comment: "A worker beside the web process.", table: { app: "uvicorn app.main:app", worker: "arq app.worker.Worker" } } },
    dockerfile: { "queue-tools": { at: "runtime", comment: "The queue's CLI, for debugging on the Machine.", instructions: "ENV ARQ_QUEUE=jobs" } },
    readinessChecks: { queue: { module: "queue", function: "queue_ready" } },
    secrets: { QUEUE_URL: {} },
    provisioning: { redis: { command: "fly redis create --name my-api-queue", description: "the queue's Redis" } },
    nextSteps: { worker: "uv run arq app.worker.Worker" },
    docs: { "queue.md": "Task queue" },
  },
};

const optionsFor = async (features: Record<string, boolean> = {}, given: Partial<ProjectOptions> = {}) => {
  const options = await resolveOptions({ directory: "my-api", install: false, git: false, ...given }, { kind: "defaults" });
  return { ...options, features: { ...options.features, ...features } };
};

const file = (plan: Plan, name: string) => {
  const found = plan.files.find((f) => f.path === name);
  if (!found) throw new Error(`${name} is not in the plan`);
  return found.content;
};

const withFeatures = (...extra: Feature[]) => [...FEATURES, ...extra];

describe("a feature's contributions", () => {
  it("reach fly.toml, the Dockerfile, settings, readiness and the deploy without editing another file", async () => {
    const plan = planProject(await optionsFor({ queue: true }), { features: withFeatures(queue) });
    expect(plan.features).toContain("queue");

    const fly = parseToml(file(plan, "fly.toml")) as Record<string, Record<string, unknown>>;
    expect(fly.env!.QUEUE_NAME).toBe("jobs");
    expect(fly.env!.PROVIDER).toBe("mock");
    expect(fly.processes).toEqual({ app: "uvicorn app.main:app", worker: "arq app.worker.Worker" });
    expect(file(plan, "fly.toml")).toContain("# A worker beside the web process.\n[processes]\n");

    const dockerfile = file(plan, "Dockerfile");
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(finalStage).toContain("# The queue's CLI, for debugging on the Machine.\nENV ARQ_QUEUE=jobs\n");
    expect(finalStage.indexOf("ENV ARQ_QUEUE=jobs")).toBeLessThan(finalStage.indexOf("USER 999:999"));

    expect(file(plan, "pyproject.toml")).toContain('"arq==0.26.3",');
    expect(file(plan, "app/config.py")).toContain("    queue_url: SecretStr | None = None\n");
    expect(file(plan, "app/config.py")).toContain("    queue_concurrency: int = Field(default=4, ge=1)\n");
    expect(file(plan, ".env.example")).toContain("# Jobs one worker runs at once.\nQUEUE_CONCURRENCY=4\n");
    const readme = file(plan, "README.md");
    expect(readme).toContain("| `QUEUE_URL` | secret | redis:// URL of the queue's Redis. |");
    expect(readme).toContain("| `QUEUE_CONCURRENCY` | `4` | Jobs one worker runs at once. |");
    // Each setting's refused value joins the generated startup tests' table.
    expect(file(plan, "tests/test_settings.py")).toContain('    "queue_url": "http://queue.internal:6379",\n    "queue_concurrency": "0",\n');

    const health = file(plan, "app/routes/health.py");
    expect(health).toMatch(/^from app import queue, ratelimit$/m);
    expect(health).toContain('        "queue": await queue.queue_ready(request.app),\n');

    expect(plan.deploy.provisioning).toEqual([{ command: "fly redis create --name my-api-queue", description: "the queue's Redis" }]);
    expect(plan.deploy.secrets).toEqual(expect.arrayContaining(["QUEUE_URL", "API_KEYS"]));
    expect(readme).toContain("fly redis create --name my-api-queue   # the queue's Redis\n");
    expect(readme).toContain("grep '^QUEUE_URL=' .env | fly secrets import --stage\n");
    expect(plan.nextSteps.slice(-2)).toEqual(["uv run arq app.worker.Worker", "npx create-fly-fastapi deploy"]);
    expect(readme).toContain("- [Task queue](docs/queue.md)");
  });

  it("add fields to core's request and done models", async () => {
    const tagged: Feature = {
      id: "tagged",
      description: "Tags on chats",
      contributes: {
        schemaFields: {
          "ChatRequest.trace_id": { type: "uuid.UUID | None", default: "None", modules: ["uuid"] },
          "Done.tagged": { type: "bool", default: "False" },
        },
      },
    };
    const plan = planProject(await optionsFor({ observability: true }), { features: withFeatures(tagged) });
    const schemas = file(plan, "app/schemas.py");
    expect(schemas).toMatch(/^import uuid\nfrom typing import Literal$/m);
    const model = (name: string) => schemas.slice(schemas.indexOf(`class ${name}(`), schemas.indexOf("\n\n\n", schemas.indexOf(`class ${name}(`)));
    expect(model("ChatRequest")).toContain("    trace_id: uuid.UUID | None = None\n");
    expect(model("Done")).toMatch(/^    tagged: bool = False$/m);
    expect(model("ChatResponse")).not.toContain("tagged");

    const wrong: Feature = { id: "wrong", description: "a field of no model", contributes: { schemaFields: { "Health.extra": { type: "int", default: "0" } } } };
    expect(() => planProject(plan.options, { features: withFeatures(wrong) })).toThrow('schemaFields "Health.extra": a key is Model.field');
  });

  it("are absent from projects that do not enable the feature", async () => {
    const plan = planProject(await optionsFor(), { features: withFeatures(queue) });
    expect(plan.features).not.toContain("queue");
    expect(parseToml(file(plan, "fly.toml"))).not.toHaveProperty("processes");
    expect(file(plan, "Dockerfile")).not.toContain("ARQ_QUEUE");
    expect(file(plan, "app/routes/health.py")).not.toContain("queue");
  });

  it("refuse a key that two features contribute, naming both", async () => {
    const metrics: Feature = { id: "metrics2", description: "a second metrics port", contributes: { flyEnv: { METRICS_PORT: { value: "9092" } } } };
    const options = await optionsFor({ observability: true });
    expect(() => planProject(options, { features: withFeatures(metrics) })).toThrow(
      'features metrics2 and observability both contribute flyEnv "METRICS_PORT": a key belongs to one feature',
    );
  });

  it("refuse a key that fly.toml itself writes", async () => {
    const provider: Feature = { id: "provider2", description: "a second provider", contributes: { flyEnv: { PROVIDER: { value: "other" } } } };
    const vm: Feature = { id: "vm2", description: "a bigger Machine", contributes: { flySections: { vm: { table: { size: "performance-2x" } } } } };
    const options = await optionsFor();
    expect(() => planProject(options, { features: withFeatures(provider) })).toThrow('features fly and provider2 both contribute flyEnv "PROVIDER"');
    expect(() => planProject(options, { features: withFeatures(vm) })).toThrow('features fly and vm2 both contribute flySections "vm"');
  });

  it("leave core, fly and docker templates free of tests of any feature or provider", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else if (/features\.|lookup features|isMock|eq provider\.id/.test(readFileSync(full, "utf8"))) offenders.push(path.relative(REPO_ROOT, full));
      }
    };
    for (const id of ["core", "fly", "docker"]) walk(path.join(REPO_ROOT, "templates", id));
    expect(offenders).toEqual([]);
  });
});

describe("feature relations", () => {
  const feature = (id: string, relations: Partial<Feature> = {}): Feature => ({
    id,
    description: id,
    option: { label: id, hint: id, default: true },
    ...relations,
  });

  it("order the middleware ratelimit, auth, observability, wherever the features are declared", async () => {
    // Without the gateway, whose setup adds exception handlers only, wherever it lands.
    const options = await optionsFor({ ratelimit: true, auth: true, observability: true, gateway: false });
    for (const features of [FEATURES, [...FEATURES].reverse()]) {
      const plan = planProject(options, { features });
      // app/middleware.py lists them outermost first: each wraps the ones before it in feature order.
      const middleware = [...file(plan, "app/middleware.py").matchAll(/^ {8}(\w+)\.middleware\(settings\),$/gm)].map((m) => m[1]);
      expect(middleware.reverse()).toEqual(["ratelimit", "auth", "observability"]);
      const lifespans = [...file(plan, "app/lifespan.py").matchAll(/^ {12}(\w+)\.lifespan\(settings\)/gm)].map((m) => m[1]);
      expect(lifespans).toEqual(["ratelimit", "auth", "observability"]);
      expect(plan.features[0]).toBe("core");
    }
  });

  it("put a feature after the ones it names, and after core", async () => {
    const first = feature("zeta");
    const second = feature("alpha", { after: ["zeta"] });
    const plan = planProject(await optionsFor({ zeta: true, alpha: true }), { features: withFeatures(second, first) });
    expect(plan.features.indexOf("zeta")).toBeLessThan(plan.features.indexOf("alpha"));
    expect(plan.features[0]).toBe("core");
  });

  it("reject a cycle, naming its features and the flags that break it", async () => {
    const a = feature("a", { after: ["b"] });
    const b = feature("b", { after: ["a"] });
    const plan = async () => planProject(await optionsFor({ a: true, b: true }), { features: withFeatures(a, b) });
    await expect(plan()).rejects.toThrow(UserError);
    await expect(plan()).rejects.toThrow(/^features a, b each come after another of them/);
    await expect(plan()).rejects.toMatchObject({ hint: "pass --no-a, or pass --no-b" });
  });

  it("reject a missing requirement with the flag that adds it", async () => {
    const needy = feature("needy", { requires: ["helper"] });
    const helper = feature("helper");
    const plan = async () => planProject(await optionsFor({ needy: true, helper: false }), { features: withFeatures(needy, helper) });
    await expect(plan()).rejects.toThrow("--needy needs --helper");
    await expect(plan()).rejects.toMatchObject({ hint: "add --helper, or pass --no-needy" });
    const ok = planProject(await optionsFor({ needy: true, helper: true }), { features: withFeatures(needy, helper) });
    expect(ok.features.indexOf("helper")).toBeLessThan(ok.features.indexOf("needy"));
  });

  it("name a relation to a feature that does not exist", async () => {
    const typo = feature("typo", { after: ["ratelimt"] });
    const options = await optionsFor({ typo: true });
    expect(() => planProject(options, { features: withFeatures(typo) })).toThrow('feature typo names ratelimt in "after", and no feature has that id');
  });

  it("reject two features that conflict", async () => {
    const one = feature("one", { conflicts: ["two"] });
    const two = feature("two");
    const plan = async () => planProject(await optionsFor({ one: true, two: true }), { features: withFeatures(one, two) });
    await expect(plan()).rejects.toThrow("--one and --two cannot be used together");
    await expect(plan()).rejects.toMatchObject({ hint: "pass --no-two, or pass --no-one" });
    expect(planProject(await optionsFor({ one: true, two: false }), { features: withFeatures(one, two) }).features).toContain("one");
  });
});

describe("services the deploy provisions", () => {
  it("a step behind a deploy option (ratelimit's Redis, --redis) is the deploy's, not a command of the README", async () => {
    const plan = planProject(await optionsFor({ ratelimit: true }));
    expect(plan.features).toContain("ratelimit");
    expect(plan.deploy.provisioning).toEqual([]);
    expect(file(plan, "README.md")).not.toContain("fly redis create   #");
    const database: Feature = {
      id: "database",
      description: "keeps data in PostgreSQL",
      contributes: {
        provisioning: { postgres: { command: "fly mpg create", description: "its cluster", service: { kind: "managed-postgres", secret: "DATABASE_URL" } } },
      },
    };
    const withDatabase = planProject(await optionsFor({ ratelimit: true }), { features: withFeatures(database) });
    expect(withDatabase.deploy.provisioning.map((step) => step.command)).toEqual(["fly mpg create"]);
    expect(file(withDatabase, "README.md")).toContain("fly mpg create   # its cluster\n");
  });
});
