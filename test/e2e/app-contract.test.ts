/**
 * What the generated app promises to clients and owners (issues 17 and 18), end to end on a
 * real uvicorn: the gateway holds the official openai SDK to the chat limits before the
 * provider; schemathesis finds nothing over the whole OpenAPI document, gateway included;
 * BASE_URL takes what a paste adds and refuses the rest in one line; a bad setting stops
 * the server before it serves.
 */
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { ensureSchemathesis } from "../support/hardening.js";
import { freePort, projectEnv, serveProject, type RunningApp } from "../support/serve.js";

/**
 * How long a refused start may take before the test calls it "kept serving". A hang guard, not a speed
 * target (those live in the benchmarks): a loaded CI machine can take several seconds to import the app.
 */
const REFUSAL_BOUND_MS = 60_000;

const KEY = "sk-api-e2e-contract-0123456789abcdef";
const PROVIDER_KEY = "sk-provider-not-a-real-key-1234";
const MODEL = "my-org/model-x";

let root: string;
let dir: string;
let upstream: FakeUpstream;
const apps: RunningApp[] = [];

async function serve(env: Record<string, string>): Promise<RunningApp> {
  const app = await serveProject(dir, { API_KEYS: KEY, RATE_LIMIT: "off", INFERENCE_API_KEY: PROVIDER_KEY, ...env });
  apps.push(app);
  return app;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-contract-"));
  dir = path.join(root, "contract");
  // Every feature, a custom provider: the gateway reaches the fake upstream.
  const args = [dir, "--provider", "custom", "--base-url", "https://llm.example.com/v1", "--model", MODEL, "--mcp"];
  const result = await runCli([...args, "--yes", "--install", "--no-git", "--json"]);
  if (result.exitCode !== 0) throw new Error(`CLI failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
  upstream = await startFakeUpstream();
}, 600_000);

afterAll(async () => {
  for (const app of apps) await app.stop();
  await upstream?.close();
  if (root) await fs.remove(root);
});

/** Runs Python in the project's venv (it has the openai SDK); returns its stdout as JSON. */
async function python(code: string, env: Record<string, string> = {}) {
  const result = await execa(path.join(dir, ".venv/bin/python"), ["-c", code], {
    cwd: dir,
    env: projectEnv(env),
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  if (result.exitCode !== 0) throw new Error(`python failed (${result.exitCode}):\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe("the gateway's request limits", () => {
  it("refuses a 150,000-character prompt, 60 messages and max_tokens=1000000 from the openai SDK, before the provider", async () => {
    const app = await serve({ BASE_URL: upstream.baseUrl });
    const before = upstream.requests.length;
    const outcomes = await python(
      `
import json, os, openai

client = openai.OpenAI(base_url=os.environ["ORIGIN"] + "/v1", api_key=os.environ["KEY"], max_retries=0, timeout=30)
hi = [{"role": "user", "content": "hi"}]
cases = {
    "prompt": {"messages": [{"role": "user", "content": "x" * 150_000}]},
    "messages": {"messages": hi * 60},
    "max_tokens": {"messages": hi, "max_tokens": 1_000_000},
    "stream": {"messages": hi * 60, "stream": True},
}
outcomes = {}
for name, request in cases.items():
    try:
        client.chat.completions.create(model=os.environ["MODEL"], **request)
        outcomes[name] = None
    except openai.APIStatusError as exc:
        outcomes[name] = {"status": exc.status_code, "type": exc.type, "param": exc.param, "message": exc.message}
print(json.dumps(outcomes))
`,
      { ORIGIN: app.origin, KEY, MODEL },
    );
    expect(outcomes.prompt).toMatchObject({ status: 400, type: "invalid_request_error", param: "messages" });
    expect(outcomes.prompt.message).toContain("characters");
    expect(outcomes.messages).toMatchObject({ status: 400, type: "invalid_request_error", param: "messages" });
    expect(outcomes.max_tokens).toMatchObject({ status: 400, type: "invalid_request_error", param: "max_tokens" });
    expect(outcomes.stream).toMatchObject({ status: 400, param: "messages" });
    expect(upstream.requests.length - before).toBe(0);

    // /v1/chat answers the same limits in its own format: a 422 naming the field.
    const chat = await fetch(`${app.origin}/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ messages: Array.from({ length: 60 }, () => ({ role: "user", content: "hi" })) }),
    });
    expect(chat.status).toBe(422);
    expect((await chat.json()).detail[0].loc).toEqual(["body", "messages"]);
    expect(upstream.requests.length - before).toBe(0);
  });

  it("puts the configured MODEL in the gateway's example request", async () => {
    const app = await serve({ BASE_URL: upstream.baseUrl, MODEL: "another-org/model-y" });
    const openapi = await (await fetch(`${app.origin}/openapi.json`)).json();
    expect(openapi.components.schemas.CompletionRequest.examples[0].model).toBe("another-org/model-y");
    expect(JSON.stringify(openapi)).not.toContain("gpt-5-mini");
  });
});

describe("schemathesis over the whole OpenAPI document", () => {
  it("finds 0 failures of any check, gateway included, with a key", { timeout: 300_000 }, async () => {
    const schemathesis = await ensureSchemathesis();
    const app = await serve({ PROVIDER: "mock", MOCK_TOKEN_DELAY: "0" });
    // A body over MAX_REQUEST_BYTES is refused with 413 before its schema is checked: a
    // rejection too, which the check does not count by default.
    const config = path.join(root, "schemathesis.toml");
    await fs.writeFile(
      config,
      "[checks.negative_data_rejection]\nexpected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]\n",
    );
    const result = await execa(
      schemathesis,
      [
        "--config-file", config,
        "run", `${app.origin}/openapi.json`,
        "--checks", "all",
        "-H", `Authorization: Bearer ${KEY}`,
        // One worker: hypothesis describes strategies with ast.parse, which CPython 3.11 can fail in two
        // threads at once ("AST constructor recursion depth mismatch"), a runtime error of the tool, not of the app.
        "--max-examples", "50", "--seed", "6", "--workers", "1",
        "--generation-database", "none", "--no-color",
      ],
      { reject: false, all: true, cwd: root, env: projectEnv(), extendEnv: false, timeout: 240_000 },
    );
    const output = result.all ?? "";
    expect(result.exitCode, output.slice(-4000)).toBe(0);
    const operations = /Tested: (\d+)/.exec(output);
    const counts = /(\d+) generated, (\d+) passed(?:, (\d+) skipped)?/.exec(output);
    expect(counts, output.slice(-2000)).not.toBeNull();
    expect(counts![1]).toBe(counts![2]);
    // Every operation of the document: chat, gateway, tools, health.
    const documented = Object.values((await (await fetch(`${app.origin}/openapi.json`)).json()).paths as Record<string, object>)
      .reduce((sum, operations) => sum + Object.keys(operations).length, 0);
    expect(Number(operations?.[1])).toBe(documented);
    console.info(`schemathesis: ${operations?.[1]} operations, ${counts![1]} cases generated, ${counts![2]} passed, ${counts![3] ?? 0} skipped`);
    expect(app.output()).not.toContain("Traceback");
  });
});

describe("BASE_URL, as pasted", () => {
  it.each([
    ["a trailing newline", (url: string) => `${url}\n`],
    ["a tab", (url: string) => `\t${url}`],
    ["a leading space", (url: string) => ` ${url}`],
    ["an upper-case scheme", (url: string) => url.replace(/^http/, "HTTP")],
  ])("starts the app and reaches the provider with %s", async (_, paste) => {
    const app = await serve({ BASE_URL: paste(upstream.baseUrl) });
    const before = upstream.requests.length;
    upstream.behave({ kind: "stream", tokens: ["ok"] });
    const response = await fetch(`${app.origin}/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(upstream.requests.length).toBe(before + 1);
  });

  it.each([
    ["inner whitespace", "http://127.0.0.1:9/v 1"],
    ["a control character", "http://127.0.0.1:9/\u0007v1"],
    ["no host", "https:///v1"],
    ["another scheme", "ftp://127.0.0.1/v1"],
  ])("refuses %s in one line naming BASE_URL, before serving", async (_, value) => {
    const port = await freePort();
    const started = Date.now();
    const result = await execa(path.join(dir, ".venv/bin/uvicorn"), ["app.main:app", "--port", String(port), "--lifespan", "on"], {
      cwd: dir,
      env: projectEnv({ BASE_URL: value, INFERENCE_API_KEY: PROVIDER_KEY }),
      extendEnv: false,
      reject: false,
      timeout: REFUSAL_BOUND_MS,
    });
    expect(result.exitCode).toBe(3);
    expect(Date.now() - started).toBeLessThan(REFUSAL_BOUND_MS);
    expect(result.stderr.split("\n").filter((line) => line.startsWith("error: "))).toEqual([expect.stringMatching(/^error: BASE_URL /)]);
    expect(result.stderr).not.toContain("Traceback");
  });
});

/** Starts `uvicorn app.main:app` with `env`; probes /healthz until it exits (at most `withinMs`). */
async function startRefused(env: Record<string, string>, withinMs = REFUSAL_BOUND_MS) {
  const port = await freePort();
  const started = Date.now();
  const child = execa(path.join(dir, ".venv/bin/uvicorn"), ["app.main:app", "--port", String(port)], {
    cwd: root, // no .env there
    env: projectEnv({ INFERENCE_API_KEY: PROVIDER_KEY, PYTHONPATH: dir, ...env }),
    extendEnv: false,
    reject: false,
    timeout: withinMs + 20_000,
  });
  const statuses: number[] = [];
  let exited = false;
  void child.finally(() => (exited = true));
  while (!exited && Date.now() - started < withinMs + 20_000) {
    const status = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status, () => 0);
    if (status) statuses.push(status);
    await Promise.race([child.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  const result = await child;
  return { exitCode: result.exitCode, stderr: String(result.stderr), ms: Date.now() - started, statuses };
}

describe("a misconfigured app", () => {
  it("stops, within a bound, for every setting's refused value, naming the variable, before serving anything", { timeout: 600_000 }, async () => {
    // The project's own table of refused values, and each field's variable.
    const cases: [string, string][] = await python(
      "import json\nfrom app.config import env_names\nfrom tests.test_settings import REFUSED\n" +
        "print(json.dumps([[env_names(f)[0], v] for f, v in REFUSED.items()]))",
    );
    expect(cases.length).toBeGreaterThanOrEqual(25);
    const failures: string[] = [];
    const slowest: number[] = [];
    // One at a time: each start is timed, and starts in parallel would slow each other down.
    for (const [name, value] of cases) {
      const result = await startRefused({ [name]: value });
      slowest.push(result.ms);
      const lines = result.stderr.split("\n").filter((line) => line.startsWith("error: "));
      if (result.exitCode !== 3 || result.ms >= REFUSAL_BOUND_MS || result.statuses.length > 0 || lines.length !== 1 || !lines[0]!.includes(name)) {
        failures.push(`${name}: exit ${result.exitCode} after ${result.ms} ms, answered ${JSON.stringify(result.statuses)}, stderr ${result.stderr.slice(-300)}`);
      }
    }
    console.info(`refused starts: ${cases.length} settings, slowest ${Math.max(...slowest)} ms, median ${slowest.sort((a, b) => a - b)[slowest.length >> 1]} ms`);
    expect(failures).toEqual([]);
  });

  it("refuses to start in one line per bad setting, never echoing a secret", async () => {
    const port = await freePort();
    const result = await execa(path.join(dir, ".venv/bin/uvicorn"), ["app.main:app", "--port", String(port)], {
      cwd: dir,
      env: projectEnv({ CORS_ORIGINS: "*", READ_TIMEOUT: "0", INFERENCE_API_KEY: "sk-secret with-a-space" }),
      extendEnv: false,
      reject: false,
      timeout: REFUSAL_BOUND_MS,
    });
    expect(result.exitCode).toBe(3);
    const lines = result.stderr.split("\n").filter((line) => line.startsWith("error: "));
    expect(lines).toHaveLength(3);
    expect(lines.join("\n")).toMatch(/CORS_ORIGINS/);
    expect(lines.join("\n")).toMatch(/READ_TIMEOUT/);
    expect(lines.join("\n")).toMatch(/INFERENCE_API_KEY/);
    expect(result.stderr).not.toContain("sk-secret");
  });

  it("says in the README that /docs loads Swagger UI from a CDN", async () => {
    const readme = await fs.readFile(path.join(dir, "README.md"), "utf8");
    expect(readme).toMatch(/`GET \/docs`.*CDN/);
  });
});
