import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KEY, runCli, snapshot, startFakeApp, storedSecrets, useFakeApp, workspace, type Workspace } from "./helpers.js";

const app = useFakeApp();
let ws: Workspace;

afterEach(() => ws?.remove());

const MUTATING = [/^apps create/, /^secrets (import|set)/, /^deploy/, /^scale/];
const mutatingCalls = async () => (await ws.calls()).map((c) => c.argv.join(" ")).filter((line) => MUTATING.some((re) => re.test(line)));

/** Runs `deploy my-api` with the key and the smoke origin in the environment. */
async function deploy(extraArgs: string[] = [], scenario: Parameters<Workspace["env"]>[0] = {}, extraEnv: Record<string, string> = { GROQ_API_KEY: KEY }) {
  return runCli(ws, ["deploy", "my-api", ...extraArgs], ws.env(scenario, { ...app.env, ...extraEnv }));
}

describe("create-fly-fastapi deploy: happy path", () => {
  it("creates the app, stages the key on stdin, deploys remotely, adds regions, smoke-tests and prints one JSON document", async () => {
    ws = await workspace();
    const before = await snapshot(ws.dir);
    const result = await deploy(["--json", "--regions", "fra,sin,iad"]);
    expect(result.exitCode, result.stderr).toBe(0);

    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      ok: true,
      app: "my-api",
      org: "personal",
      created: true,
      url: "https://my-api.fly.dev",
      docsUrl: "https://my-api.fly.dev/docs",
      hostname: "my-api.fly.dev",
      regions: ["iad", "fra", "sin"],
      account: "dev@example.com",
      flyctl: { command: "flyctl", version: "0.3.999" },
      secrets: [{ name: "GROQ_API_KEY", source: "staged from environment" }],
      smoke: { origin: app.origin, healthz: { status: 200 }, stream: { deltas: 3, text: "Hello from Fly" } },
    });
    expect(doc.smoke.stream.firstEventMs).toBeGreaterThanOrEqual(0);
    expect(doc.smoke.stream.totalMs).toBeGreaterThanOrEqual(doc.smoke.stream.firstEventMs);
    expect(doc.commands.redeploy).toBe("cd my-api && fly deploy");
    expect(doc.commands.logs).toBe("cd my-api && fly logs");
    expect(result.stderr).toContain("Finished deploying");

    const calls = await ws.calls();
    const lines = calls.map((c) => c.argv.join(" "));
    expect(lines).toEqual([
      "version",
      "auth whoami --json",
      "apps list --json",
      "apps create my-api --org personal",
      "secrets import --app my-api --stage",
      "deploy --remote-only --ha=false --app my-api --config fly.toml --yes",
      "scale count 1 --region fra --app my-api --yes",
      "scale count 1 --region sin --app my-api --yes",
      "status --app my-api --json",
    ]);
    expect(calls.find((c) => c.argv[0] === "secrets")!.stdin).toBe(`GROQ_API_KEY="${KEY}"\n`);
    expect(storedSecrets(calls.find((c) => c.argv[0] === "secrets"))).toEqual({ GROQ_API_KEY: KEY });
    expect(calls.every((c) => c.cwd === ws.dir)).toBe(true);

    // The key never reaches argv, the project, or flyctl's output; the project is unchanged.
    expect(JSON.stringify(calls.map((c) => c.argv))).not.toContain(KEY);
    expect(result.stdout + result.stderr).not.toContain(KEY);
    expect(await snapshot(ws.dir)).toEqual(before);
  });

  it("finds `fly` when only `fly` is on PATH, and needs no secret for the mock provider", async () => {
    ws = await workspace({ provider: "mock" });
    await fs.rm(path.join(ws.binDir, "flyctl"));
    const result = await deploy(["--json"], {}, {});
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.flyctl.command).toBe("fly");
    expect(doc.secrets).toEqual([]);
    expect((await ws.calls()).some((c) => c.argv[0] === "secrets")).toBe(false);
  });

  it("deploys in CI with FLY_API_TOKEN, checked by `auth whoami` first, and prints plain lines and the summary", async () => {
    ws = await workspace();
    const result = await deploy([], { auth: "logged-out" }, { GROQ_API_KEY: KEY, FLY_API_TOKEN: "fo1_token" });
    expect(result.exitCode, result.stderr).toBe(0);
    // flyctl checks a token only at its first API call: whoami is that call, before anything changes.
    expect((await ws.calls()).map((c) => c.argv.join(" ")).slice(0, 2)).toEqual(["version", "auth whoami --json"]);
    expect(result.stdout).toContain("dev@example.com (the token in FLY_API_TOKEN)");
    expect(result.stdout).toContain("  │ Finished deploying");
    expect(result.stdout).toMatch(/Live: +https:\/\/my-api\.fly\.dev/);
    expect(result.stdout).toMatch(/API docs: +https:\/\/my-api\.fly\.dev\/docs/);
    expect(result.stdout).toMatch(/Redeploy: +cd my-api && fly deploy/);
    expect(result.stdout).toMatch(/Logs: +cd my-api && fly logs/);
    expect(result.stdout).toMatch(/first event after \d+ ms, then one every [\d.]+ ms \(median\), done after \d+ ms/);
    expect(result.stdout).toMatch(/Machines: +1 in iad: the app scales to zero/);
    expect(result.stdout).toMatch(/Cost: +\$0\.15–\$3\.19 a month: 1 × shared-cpu-1x 512 MB \(1 in iad\), scale to zero · Fly\.io prices of \d{4}-\d{2}-\d{2}/);
  });
});

describe("create-fly-fastapi deploy: each failure says what and how to fix it, exit 1, project untouched", () => {
  async function expectFailure(result: Awaited<ReturnType<typeof deploy>>, before: Record<string, string>, message: string | RegExp, hint: string | RegExp) {
    expect(result.exitCode).toBe(1);
    expect(result.stdout).not.toContain("Live:");
    const errorLine = result.stderr.split("\n").find((l) => l.startsWith("error: "));
    expect(errorLine).toMatch(message);
    expect(result.stderr.split("\n").find((l) => l.startsWith("hint: "))).toMatch(hint);
    expect(await snapshot(ws.dir)).toEqual(before);
    expect(result.stdout + result.stderr).not.toContain(KEY);
  }

  it("flyctl not installed", async () => {
    ws = await workspace();
    const before = await snapshot(ws.dir);
    const result = await runCli(ws, ["deploy", "my-api"], ws.env({}, { GROQ_API_KEY: KEY }, false));
    await expectFailure(result, before, /preflight: flyctl is not installed/, "curl -L https://fly.io/install.sh | sh");
  });

  it("not logged in: shows flyctl's own line and changes nothing on Fly", async () => {
    ws = await workspace();
    const before = await snapshot(ws.dir);
    const result = await deploy([], { auth: "logged-out" });
    await expectFailure(result, before, /preflight: not logged in to Fly\.io/, "fly auth login");
    expect(result.stderr).toContain("No access token available");
    expect(await mutatingCalls()).toEqual([]);
  });

  it("no Dockerfile", async () => {
    ws = await workspace({ dockerfile: false });
    const before = await snapshot(ws.dir);
    await expectFailure(await deploy(), before, /has no Dockerfile/, "git checkout -- Dockerfile");
  });

  it("not a project (no fly.toml)", async () => {
    ws = await workspace();
    await fs.rm(path.join(ws.dir, "fly.toml"));
    const before = await snapshot(ws.dir);
    await expectFailure(await deploy(), before, /has no fly\.toml/, "create-fly-fastapi deploy <directory>");
  });

  it("uv.lock missing and uv not installed", async () => {
    ws = await workspace({ lock: false });
    const before = await snapshot(ws.dir);
    await expectFailure(await deploy(), before, /uv\.lock is missing .* uv is not installed/, "uv lock");
    expect(await mutatingCalls()).toEqual([]);
  });

  it("the provider's key is not in the environment (CI cannot ask)", async () => {
    ws = await workspace();
    const before = await snapshot(ws.dir);
    const result = await deploy([], {}, {});
    await expectFailure(result, before, /GROQ_API_KEY is not set: the app needs it to call Groq/, "export GROQ_API_KEY=<your key> (get one at https://console.groq.com/keys)");
    expect(await mutatingCalls()).toEqual([]);
  });

  it("the app name belongs to someone else: suggestions, then --name continues and writes fly.toml", async () => {
    ws = await workspace();
    const before = await snapshot(ws.dir);
    const taken = await deploy([], { taken: ["my-api"] });
    await expectFailure(taken, before, /app: the app name my-api is taken by another Fly\.io user/, /--name my-api-[0-9a-f]{4}/);

    const suggestion = /--name (my-api-[0-9a-f]{4})/.exec(taken.stderr)![1]!;
    const retry = await deploy(["--name", suggestion, "--json"], { taken: ["my-api"] });
    expect(retry.exitCode, retry.stderr).toBe(0);
    expect(JSON.parse(retry.stdout).app).toBe(suggestion);
    const flyToml = await fs.readFile(path.join(ws.dir, "fly.toml"), "utf8");
    expect(flyToml).toContain(`app = "${suggestion}"`);
    expect(flyToml).toContain(`app = "uvicorn app.main:app --host 0.0.0.0 --port 8080"`);
    expect(flyToml.replace(`app = "${suggestion}"`, 'app = "my-api"')).toBe(before["fly.toml"]);
  });

  it("a build error stops at the deploy step with flyctl's lines; the re-run continues (app and secret kept)", async () => {
    ws = await workspace();
    const before = await snapshot(ws.dir);
    const failed = await deploy(["--json"], { deploy: "build-error" });
    await expectFailure(failed, before, /deploy stopped at deploy: flyctl deploy failed \(flyctl exited with 1\)/, "npx create-fly-fastapi deploy my-api");
    expect(failed.stderr).toContain("flyctl │ Error: failed to fetch an image or build from source");
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, step: "deploy", output: [expect.stringContaining("did not complete successfully")] });
    expect(JSON.parse(failed.stdout).error).toEqual({
      code: "deploy_failed",
      message: expect.stringContaining("deploy stopped at deploy: flyctl deploy failed"),
      hint: expect.stringContaining("npx create-fly-fastapi deploy my-api"),
    });

    // Again, this time without the key in the environment: the app and its secret are already there.
    const rerun = await deploy(["--json"], {}, {});
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const doc = JSON.parse(rerun.stdout);
    expect(doc).toMatchObject({ created: false, secrets: [{ name: "GROQ_API_KEY", source: "already set" }] });
    const commands = (await ws.calls()).map((c) => c.argv.slice(0, 2).join(" "));
    expect(commands.filter((c) => c === "apps create")).toHaveLength(1);
    expect(commands.filter((c) => c === "secrets import")).toHaveLength(1);
    expect(commands.filter((c) => c === "deploy --remote-only")).toHaveLength(2);
    expect(await snapshot(ws.dir)).toEqual(before);
  });

  it("the smoke test fails: says the app is deployed, points at the logs", async () => {
    ws = await workspace();
    const broken = await startFakeApp({ stream: "error-event" });
    try {
      const before = await snapshot(ws.dir);
      const result = await runCli(ws, ["deploy", "my-api"], ws.env({}, { ...broken.env, GROQ_API_KEY: KEY }));
      await expectFailure(result, before, /smoke: my-api is deployed, but the stream sent an error event: upstream_auth/, "fly logs --app my-api");
    } finally {
      await broken.close();
    }
  });

  it("a project that does not record its options: one JSON document with the error, nothing called", async () => {
    ws = await workspace({ recorded: false });
    const before = await snapshot(ws.dir);
    const result = await deploy(["--json"]);
    await expectFailure(result, before, /does not record the options the project was created with/, /^hint: add its \[tool\.create-fly-fastapi\] table/);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: "no_recorded_options", message: expect.stringContaining("pyproject.toml"), hint: expect.stringContaining('provider = "groq"') } });
    expect(await ws.calls()).toEqual([]);
  });

  it("rejects project options and unknown regions before calling flyctl", async () => {
    ws = await workspace();
    const provider = await deploy(["--provider", "openai"]);
    expect(provider.exitCode).toBe(1);
    expect(provider.stderr).toContain("error: --provider is chosen when a project is created");
    const regions = await deploy(["--regions", "fra,xyz"]);
    expect(regions.exitCode).toBe(1);
    expect(regions.stderr).toContain('unknown region "xyz" in --regions');
    expect(await ws.calls()).toEqual([]);
  });
});

describe("create-fly-fastapi deploy: an app that is already yours", () => {
  it("is kept (no apps create), in its own org, and secrets already set are not asked for", async () => {
    ws = await workspace();
    await ws.setApps({ "my-api": { org: "acme", secrets: ["GROQ_API_KEY"] } });
    const result = await deploy(["--json"], {}, {});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ app: "my-api", org: "acme", created: false });
    expect(await mutatingCalls()).toEqual(["deploy --remote-only --ha=false --app my-api --config fly.toml --yes"]);
    // Its Machine is kept, and so is its cost.
    expect(JSON.parse(result.stdout)).toMatchObject({ machines: { regions: [{ region: "iad", machines: 1 }], running: { iad: 1 } }, estimate: { high: 3.19 } });
  });
});
