import fs from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { DeployError, deployProject, summaryLines, type DeployRequest } from "../../src/deploy/index.js";
import { plainUi, type DeployUi } from "../../src/deploy/ui.js";
import { FEATURES } from "../../src/features/index.js";
import type { Feature } from "../../src/features/types.js";
import { KEY, runCli, snapshot, storedSecrets, useFakeApp, workspace, type Workspace } from "./helpers.js";

/** A feature that needs Managed Postgres, declared as a feature module declares it. */
const database: Feature = {
  id: "test-database",
  description: "a feature that keeps its data in PostgreSQL",
  after: ["ratelimit"],
  contributes: {
    provisioning: {
      postgres: {
        command: "fly mpg create && fly mpg attach <cluster-id>",
        description: "a Managed Postgres cluster; attach sets DATABASE_URL as a secret",
        service: { kind: "managed-postgres", secret: "DATABASE_URL" },
      },
    },
  },
};
const features = [...FEATURES, database];

const app = useFakeApp();
let ws: Workspace;
afterEach(() => ws?.remove());

interface FakeState {
  apps: Record<string, { secrets: Record<string, string>; staged: string[] }>;
  mpg?: { id: string; name: string; org: string; attached: string[] }[];
  redis?: { name: string; org: string; eviction: boolean }[];
}
const readState = async () => JSON.parse(await fs.readFile(ws.state, "utf8")) as FakeState;
const argvLines = async () => (await ws.calls()).map((c) => c.argv.join(" "));

function quietUi() {
  const output: string[] = [];
  return { ui: plainUi((line) => output.push(line)), output };
}

function request(ui: DeployUi, extra: Partial<DeployRequest> = {}, env: Record<string, string> = {}, scenario: Parameters<Workspace["env"]>[0] = {}): DeployRequest {
  return {
    dir: ws.dir,
    org: "personal",
    regions: ["fra"],
    yes: true,
    features,
    env: ws.env(scenario, { ...app.env, GROQ_API_KEY: KEY, ...env }),
    ui,
    rerun: "npx create-fly-fastapi deploy my-api",
    ...extra,
  };
}

describe("deploy: Managed Postgres and Upstash Redis", () => {
  it("creates, attaches and stages them; a second run creates nothing and leaves every secret as it was", async () => {
    ws = await workspace({ features: { ratelimit: true } });
    const first = quietUi();
    const summary = await deployProject(request(first.ui, { redis: true }));

    const state = await readState();
    expect(state.mpg).toHaveLength(1);
    const cluster = state.mpg![0]!;
    expect(cluster).toMatchObject({ name: "my-api-db", org: "personal", attached: ["my-api"] });
    expect(state.redis).toEqual([expect.objectContaining({ name: "my-api-redis", org: "personal", eviction: false })]);
    expect(summary.provisioning).toEqual([
      { kind: "upstash-redis", name: "my-api-redis", secret: "REDIS_URL", action: "created" },
      { kind: "managed-postgres", name: "my-api-db", id: cluster.id, secret: "DATABASE_URL", action: "created" },
    ]);
    // The cluster is made in the primary region with flyctl's defaults, found by name first, attached
    // after the app exists; the Redis URL goes on stdin with the other secrets, before the deploy.
    const lines = await argvLines();
    const at = (line: string) => lines.indexOf(line);
    expect(lines).toContain("mpg list --org personal --json");
    expect(lines).toContain("mpg create --name my-api-db --org personal --region iad --plan basic --volume-size 10");
    expect(lines).toContain(`mpg attach ${cluster.id} --app my-api`);
    expect(lines).toContain("redis list --org personal");
    expect(lines).toContain("redis create --name my-api-redis --org personal --region iad --no-replicas --disable-eviction --enable-prodpack=false");
    expect(lines).toContain("redis status my-api-redis");
    expect(at("apps create my-api --org personal")).toBeLessThan(at(`mpg attach ${cluster.id} --app my-api`));
    expect(at("mpg list --org personal --json")).toBeLessThan(at("mpg create --name my-api-db --org personal --region iad --plan basic --volume-size 10"));
    const imported = storedSecrets((await ws.calls()).find((c) => c.argv[0] === "secrets" && c.argv[1] === "import"));
    expect(imported?.REDIS_URL).toMatch(/^redis:\/\/default:[0-9a-f]+@fly-my-api-redis\.upstash\.io:6379$/);
    expect(at("secrets import --app my-api --stage")).toBeLessThan(at("deploy --remote-only --ha=false --app my-api --config fly.toml --yes"));
    expect(summary.estimate.lines.map((l) => l.what)).toEqual(expect.arrayContaining(["Managed Postgres Basic, 10 GB", expect.stringMatching(/^Upstash Redis, pay as you go: \$0\.20 per 100K commands/)]));
    // flyctl prints both URLs (create, attach, status); none is shown.
    expect(first.output.join("\n")).not.toMatch(/postgresql:\/\/|redis:\/\//);
    expect(first.output.join("\n")).toMatch(/created my-api-db \(\w+\); DATABASE_URL set by fly mpg attach/);

    const secretsBefore = Object.fromEntries(Object.entries(state.apps["my-api"]!.secrets));
    const callsBefore = lines.length;
    const second = quietUi();
    const again = await deployProject(request(second.ui, { redis: true }));
    expect(again.provisioning).toEqual([
      { kind: "upstash-redis", secret: "REDIS_URL", action: "kept" },
      { kind: "managed-postgres", secret: "DATABASE_URL", action: "kept" },
    ]);
    const rerunCalls = (await ws.calls()).slice(callsBefore);
    expect(rerunCalls.map((c) => c.argv.join(" ")).filter((line) => /^(mpg|redis) |^apps create/.test(line))).toEqual([]);
    // The provider key in the environment is staged again, as every deploy does; the URLs are not.
    expect(Object.keys(storedSecrets(rerunCalls.find((c) => c.argv[0] === "secrets" && c.argv[1] === "import")) ?? {})).toEqual(["GROQ_API_KEY"]);
    const after = await readState();
    expect(after.mpg).toHaveLength(1);
    expect(after.redis).toHaveLength(1);
    expect(after.apps["my-api"]!.secrets).toEqual(secretsBefore);
    expect(second.output.join("\n")).toContain("my-api already has DATABASE_URL: kept");
    expect(summaryLines(summary)).toEqual(expect.arrayContaining(["Redis:     my-api-redis created, REDIS_URL set", "Postgres:  my-api-db created, DATABASE_URL set"]));
    expect(summaryLines(again)).toEqual(expect.arrayContaining(["Postgres:  DATABASE_URL already set: kept"]));
  });

  it("reuses the cluster and the Redis an earlier run made (found by name) when the app lacks their secrets", async () => {
    ws = await workspace({ features: { ratelimit: true } });
    await fs.writeFile(
      ws.state,
      JSON.stringify({
        apps: {},
        mpg: [{ id: "cl0ld1d", name: "my-api-db", org: "personal", region: "iad", status: "ready", plan: "basic", disk: 10, attached: [] }],
        redis: [{ name: "my-api-redis", org: "personal", region: "iad", plan: "Pay-as-you-go", eviction: false }],
      }),
    );
    const { ui } = quietUi();
    const summary = await deployProject(request(ui, { redis: true }));
    expect(summary.provisioning).toEqual([
      { kind: "upstash-redis", name: "my-api-redis", secret: "REDIS_URL", action: "reused" },
      { kind: "managed-postgres", name: "my-api-db", id: "cl0ld1d", secret: "DATABASE_URL", action: "reused" },
    ]);
    const lines = await argvLines();
    expect(lines).toContain("mpg attach cl0ld1d --app my-api");
    expect(lines.filter((line) => /^(mpg|redis) create/.test(line))).toEqual([]);
    expect((await readState()).apps["my-api"]!.secrets).toHaveProperty("DATABASE_URL");
  });

  it("uses a DATABASE_URL from the environment: nothing created, on stdin only, never in argv or on disk", async () => {
    ws = await workspace();
    const url = "postgres://app:s3cr3t-pw-91c@db.example.com:5432/app";
    const { ui, output } = quietUi();
    const summary = await deployProject(request(ui, {}, { DATABASE_URL: url }));
    expect(summary.provisioning).toEqual([{ kind: "managed-postgres", secret: "DATABASE_URL", action: "given" }]);
    expect(summary.secrets).toContainEqual({ name: "DATABASE_URL", source: "staged from environment" });
    expect(summary.estimate.lines.some((l) => l.what.startsWith("Managed Postgres"))).toBe(false);
    const calls = await ws.calls();
    expect(calls.filter((c) => c.argv[0] === "mpg")).toEqual([]);
    expect(storedSecrets(calls.find((c) => c.argv[0] === "secrets" && c.argv[1] === "import"))?.DATABASE_URL).toBe(url);
    expect(calls.some((c) => c.argv.some((word) => word.includes("s3cr3t")))).toBe(false);
    // The workspace holds the project, the fake's log (stdin is what flyctl read) and its state: only the log may have it.
    const files = await snapshot(ws.root);
    const holding = Object.entries(files).filter(([, content]) => content.includes("s3cr3t")).map(([file]) => file);
    expect(holding).toEqual(["flyctl.jsonl"]);
    expect(JSON.stringify(summary)).not.toContain("s3cr3t");
    expect(output.join("\n")).not.toContain("s3cr3t");
  });

  it("in a terminal: offers Redis for more than one Machine, and takes a pasted DATABASE_URL instead of a cluster", async () => {
    ws = await workspace({ features: { ratelimit: true } });
    const asked: string[] = [];
    const pasted = "postgres://app:pasted-pw-5e1@db.example.com/app";
    const ui: DeployUi = {
      ...plainUi(() => {}),
      interactive: true,
      async confirm(message) {
        asked.push(message);
        return message.startsWith("Rate limits count per Machine");
      },
      async askSecret(name) {
        asked.push(`secret ${name}`);
        return pasted;
      },
    };
    const summary = await deployProject(request(ui));
    expect(asked).toEqual([
      "Rate limits count per Machine. Create an Upstash Redis that all Machines share (pay as you go)?",
      "Use a Managed Postgres cluster my-api-db for DATABASE_URL (made now if missing: Basic, 10 GB)? No: paste your own URL",
      "secret DATABASE_URL",
    ]);
    expect(summary.provisioning.map((p) => `${p.kind} ${p.action}`)).toEqual(["upstash-redis created", "managed-postgres given"]);
    const calls = await ws.calls();
    expect(storedSecrets(calls.find((c) => c.argv[0] === "secrets" && c.argv[1] === "import"))?.DATABASE_URL).toBe(pasted);
    expect(calls.some((c) => c.argv.some((word) => word.includes("pasted-pw")))).toBe(false);
  });

  it("stops at the postgres step with flyctl's own lines when mpg create fails, before the deploy", async () => {
    ws = await workspace();
    const { ui } = quietUi();
    const error = await deployProject(request(ui, {}, {}, { mpgRegions: ["fra", "ams"] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    const failure = error as DeployError;
    expect(failure.step).toBe("postgres");
    expect(failure.message).toBe("deploy stopped at postgres: could not create the Managed Postgres cluster my-api-db in iad (flyctl exited with 1)");
    expect(failure.output).toEqual(["Error: region iad is not available for Managed Postgres. Available regions: [fra ams]"]);
    expect(failure.hint).toBe("fix the cause above, then run again: npx create-fly-fastapi deploy my-api");
    expect((await argvLines()).filter((line) => /^(deploy|secrets import)/.test(line))).toEqual([]);
  });
});

describe("create-fly-fastapi deploy --redis (the ratelimit feature)", () => {
  it("--json holds the Redis it created; --dry-run says what it would provision and what it costs", async () => {
    ws = await workspace({ features: { ratelimit: true } });
    const env = ws.env({}, { ...app.env, GROQ_API_KEY: KEY });
    const dry = await runCli(ws, ["deploy", "my-api", "--redis", "--dry-run", "--json"], env);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan.provisioning).toEqual([{ kind: "upstash-redis", secret: "REDIS_URL", name: "my-api-redis", action: "create or reuse" }]);
    expect(plan.estimate.summary).toContain("Redis per command");
    expect(await ws.calls()).toEqual([]);

    const result = await runCli(ws, ["deploy", "my-api", "--redis", "--json"], env);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.provisioning).toEqual([{ kind: "upstash-redis", name: "my-api-redis", secret: "REDIS_URL", action: "created" }]);
    expect(doc.secrets).toContainEqual({ name: "REDIS_URL", source: "staged from provisioned" });
    expect(result.stdout + result.stderr).not.toContain("redis://");

    const without = await runCli(ws, ["deploy", "my-api", "--json"], env);
    expect(JSON.parse(without.stdout).provisioning).toEqual([]);
  });

  it("refuses --redis for a project without rate limits, in preflight, before anything changes", async () => {
    ws = await workspace();
    const result = await runCli(ws, ["deploy", "my-api", "--redis"], ws.env({}, { ...app.env, GROQ_API_KEY: KEY }));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("error: deploy stopped at preflight: --redis: no feature of this project uses it");
    expect((await ws.calls()).map((c) => c.argv.join(" ")).filter((line) => !/^(version|auth whoami|apps list)/.test(line))).toEqual([]);
  });
});
