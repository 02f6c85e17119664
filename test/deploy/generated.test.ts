import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deployProject } from "../../src/deploy/index.js";
import { readProject } from "../../src/deploy/project.js";
import { plainUi } from "../../src/deploy/ui.js";
import type { ProjectOptions } from "../../src/options.js";
import { planProject } from "../../src/plan.js";
import { checkTarget, writePlan } from "../../src/write.js";
import { KEY, runCli, snapshot, storedSecrets, useFakeApp, workspace, type Workspace } from "./helpers.js";

const base: Omit<ProjectOptions, "directory"> = {
  name: "gen-api",
  provider: "groq",
  model: "llama-3.3-70b-versatile",
  baseUrl: "https://api.groq.com/openai/v1",
  region: "fra",
  pythonTool: "uv",
  git: false,
  install: false,
  features: {},
};

let ws: Workspace;
afterEach(() => ws?.remove());

async function generate(overrides: Partial<ProjectOptions>): Promise<{ dir: string; options: ProjectOptions }> {
  ws = await workspace();
  const options = { ...base, directory: path.join(ws.root, "generated"), ...overrides };
  const plan = planProject(options);
  await writePlan(plan, await checkTarget(plan, false));
  return { dir: options.directory, options };
}

describe("the deploy reads a project as the templates write it", () => {
  it.each([
    [{}, ["GROQ_API_KEY"], [], true],
    [{ provider: "mock", model: "mock-echo", baseUrl: "", pythonTool: "pip" as const }, [], [], false],
    [{ provider: "ollama", model: "llama3.2", baseUrl: "http://localhost:11434/v1" }, [], [], true],
    [{ provider: "custom", model: "m", baseUrl: "https://my-vllm.modal.run/v1" }, [], ["INFERENCE_API_KEY"], true],
  ])("%j: secrets %j, optional %j, uv.lock needed: %s", async (overrides, secrets, optional, needsUvLock) => {
    const { dir, options } = await generate(overrides);
    const fromFiles = await readProject(dir);
    expect(fromFiles).toMatchObject({
      appName: "gen-api",
      primaryRegion: "fra",
      provider: { id: options.provider },
      secretNames: secrets,
      optionalSecretNames: optional,
      needsUvLock,
      hasUvLock: false,
    });
    expect(await readProject(dir, options)).toEqual(fromFiles);
  });
});

describe("create-fly-fastapi DIR --deploy", () => {
  const app = useFakeApp();

  const withUv = async () => fs.writeFile(path.join(ws.binDir, "uv"), `#!/bin/sh\n[ "$1" = lock ] && echo 'version = 1' > uv.lock\nexit 0\n`, { mode: 0o755 });

  it("writes the project, then deploys it and adds `deploy` to the one JSON document", async () => {
    ws = await workspace();
    await withUv();
    const args = ["created", "--provider", "groq", "--region", "fra", "--no-install", "--no-git", "--yes", "--deploy", "--regions", "sin", "--json"];
    const result = await runCli(ws, args, ws.env({}, { ...app.env, GROQ_API_KEY: KEY }));
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ ok: true, options: { name: "created", provider: "groq" } });
    expect(doc.deploy).toMatchObject({ ok: true, app: "created", url: "https://created.fly.dev", regions: ["fra", "sin"], smoke: { stream: { deltas: 3 } } });
    const dir = path.join(ws.root, "created");
    expect(JSON.stringify(await snapshot(dir))).not.toContain(KEY);
    expect((await ws.calls()).map((c) => c.argv.join(" "))).toContain("apps create created --org personal");
  });

  it("checks flyctl and the login before writing anything", async () => {
    ws = await workspace();
    const result = await runCli(ws, ["created", "--yes", "--deploy"], ws.env({ auth: "logged-out" }));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("error: deploy stopped at preflight: not logged in to Fly.io");
    await expect(fs.stat(path.join(ws.root, "created"))).rejects.toThrow("ENOENT");
  });

  it("keeps the written project when the deploy fails, and says how to continue", async () => {
    ws = await workspace();
    await withUv();
    const result = await runCli(ws, ["created", "--provider", "mock", "--no-install", "--no-git", "--yes", "--deploy"], ws.env({ deploy: "build-error" }, app.env));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("Next steps:");
    expect(result.stderr).toContain("error: deploy stopped at deploy: flyctl deploy failed");
    expect(result.stderr).toContain("hint: fix the cause above, then run again: npx create-fly-fastapi deploy created");
    expect(await fs.readFile(path.join(ws.root, "created/fly.toml"), "utf8")).toContain('app = "created"');
  });

  it("with --json, a failed deploy after writing is one document: ok false, the error, what was written", async () => {
    ws = await workspace();
    await withUv();
    const args = ["created", "--provider", "mock", "--no-install", "--no-git", "--yes", "--deploy", "--json"];
    const result = await runCli(ws, args, ws.env({ deploy: "build-error" }, app.env));
    expect(result.exitCode).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      ok: false,
      error: { code: "deploy_failed", message: expect.stringContaining("deploy stopped at deploy"), hint: expect.stringContaining("npx create-fly-fastapi deploy created") },
      options: { name: "created" },
      deploy: { ok: false, step: "deploy" },
    });
    expect(doc.files.map((f: { path: string }) => f.path)).toContain("fly.toml");
    expect(result.stderr).toContain("error: deploy stopped at deploy: flyctl deploy failed");
  });

  it("refuses --redis for a project without rate limits before anything is written or asked of flyctl", async () => {
    ws = await workspace();
    const result = await runCli(ws, ["created", "--no-install", "--no-git", "--yes", "--deploy", "--redis", "--no-ratelimit"], ws.env());
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      "error: --redis: no feature of this project uses it",
      "hint: drop --redis (the rate limits use Redis: a project created with --ratelimit)",
    ]);
    await expect(fs.stat(path.join(ws.root, "created"))).rejects.toThrow("ENOENT");
    expect(await ws.calls()).toEqual([]);
  });

  it("--dry-run prices what the deploy would provision: Redis with --redis, Managed Postgres with --postgres", async () => {
    ws = await workspace();
    const estimate = async (...flags: string[]) => {
      const result = await runCli(ws, ["created", "--yes", "--dry-run", "--json", ...flags], ws.env());
      expect(result.exitCode, result.stderr).toBe(0);
      return JSON.parse(result.stdout).estimate as { lines: { what: string; low: number; high: number }[]; summary: string };
    };
    const plain = await estimate();
    expect(plain.lines.map((l) => l.what).join("\n")).not.toMatch(/Redis|Postgres/);
    const withRedis = await estimate("--redis");
    expect(withRedis.lines).toContainEqual({ what: "Upstash Redis, pay as you go: $0.20 per 100K commands (with the traffic, not in the figure)", low: 0, high: 0 });
    expect(withRedis.summary).toContain("Redis per command");
    const both = await estimate("--redis", "--postgres");
    // mpg/index.html.md in superfly/docs: Basic $38.00 a month, storage $0.28 per GB; flyctl's default is 10 GB.
    expect(both.lines).toContainEqual({ what: "Managed Postgres Basic, 10 GB", low: 40.8, high: 40.8 });
    expect(both.summary).toContain("Postgres, Redis per command");
    await expect(fs.stat(path.join(ws.root, "created"))).rejects.toThrow("ENOENT");
  });

  it("refuses --deploy with --dry-run", async () => {
    ws = await workspace();
    const result = await runCli(ws, ["created", "--yes", "--deploy", "--dry-run"], ws.env());
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("--dry-run writes nothing, so there is nothing to deploy");
  });
});

describe("a project generated with --postgres, deployed", () => {
  const app = useFakeApp();

  it("creates and attaches its Managed Postgres on the first deploy, reuses it on the second, and never shows or stages DATABASE_URL", async () => {
    const { dir } = await generate({ pythonTool: "pip", features: { postgres: true } });
    const deployOnce = async () => {
      const output: string[] = [];
      const summary = await deployProject({
        dir,
        org: "personal",
        regions: ["fra"],
        yes: true,
        env: ws.env({}, { ...app.env, GROQ_API_KEY: KEY }),
        ui: plainUi((line) => output.push(line)),
        rerun: "npx create-fly-fastapi deploy generated",
      });
      return { summary, output: output.join("\n") };
    };
    const argv = async () => (await ws.calls()).map((c) => c.argv.join(" "));

    const first = await deployOnce();
    const state = JSON.parse(await fs.readFile(ws.state, "utf8")) as { mpg: { id: string; name: string; attached: string[] }[]; apps: Record<string, { secrets: Record<string, string> }> };
    expect(state.mpg).toEqual([expect.objectContaining({ name: "gen-api-db", attached: ["gen-api"] })]);
    const cluster = state.mpg[0]!;
    expect(first.summary.provisioning).toEqual([{ kind: "managed-postgres", name: "gen-api-db", id: cluster.id, secret: "DATABASE_URL", action: "created" }]);
    const firstCalls = await argv();
    expect(firstCalls).toContain("mpg create --name gen-api-db --org personal --region fra --plan basic --volume-size 10");
    expect(firstCalls).toContain(`mpg attach ${cluster.id} --app gen-api`);
    // fly.toml's release_command runs the migrations; the deploy only provisions the database.
    expect(await fs.readFile(path.join(dir, "fly.toml"), "utf8")).toContain('release_command = "alembic upgrade head"');
    expect(state.apps["gen-api"]!.secrets).toHaveProperty("DATABASE_URL");
    // attach sets DATABASE_URL itself: it is never staged from here, nor printed.
    const imports = (await ws.calls()).filter((c) => c.argv[0] === "secrets" && c.argv[1] === "import");
    for (const call of imports) expect(Object.keys(storedSecrets(call) ?? {})).not.toContain("DATABASE_URL");
    expect(first.output).not.toMatch(/postgres(ql)?:\/\//);

    const callsBefore = firstCalls.length;
    const second = await deployOnce();
    expect(second.summary.provisioning).toEqual([{ kind: "managed-postgres", secret: "DATABASE_URL", action: "kept" }]);
    const again = (await argv()).slice(callsBefore);
    expect(again.filter((line) => /^mpg (create|attach)|^apps create/.test(line))).toEqual([]);
    const after = JSON.parse(await fs.readFile(ws.state, "utf8")) as typeof state;
    expect(after.mpg).toHaveLength(1);
    expect(after.apps["gen-api"]!.secrets).toEqual(state.apps["gen-api"]!.secrets);
  });
});
