import { execa } from "execa";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { SMOKE_ORIGIN_ENV } from "../../src/deploy/smoke.js";
import { findProvider } from "../../src/providers.js";
import { recordedTable } from "../../src/recorded.js";
import { installFakeFlyctl, readCalls, scenarioEnv, type FakeFlyctlCall, type FakeFlyctlScenario } from "../fixtures/fake-flyctl/install.js";
import { parseSecrets } from "../fixtures/fake-flyctl/secrets-parser.mjs";
import { BIN } from "../support/cli.js";

export const KEY = "gsk-test-secret-value-7f3a9c";

export interface ProjectShape {
  name?: string;
  provider?: string;
  region?: string;
  uv?: boolean;
  /** Write uv.lock (uv projects only); default true. */
  lock?: boolean;
  dockerfile?: boolean;
  /** Optional features on (recorded in pyproject.toml); default none. */
  features?: Record<string, boolean>;
  /** Record the options in pyproject.toml, as the generator does; default true. */
  recorded?: boolean;
}

/** A project laid out like a generated one: fly.toml, Dockerfile, .env.example, pyproject.toml with its recorded options (uv.lock). */
export async function makeProject(dir: string, shape: ProjectShape = {}): Promise<void> {
  const { name = "my-api", provider = "groq", region = "iad", uv = true, lock = true, dockerfile = true, features = {}, recorded = true } = shape;
  const preset = findProvider(provider)!;
  await fs.mkdir(path.join(dir, "app"), { recursive: true });
  await fs.writeFile(
    path.join(dir, "fly.toml"),
    [
      `# fly.toml app configuration for ${name}`,
      `app = "${name}"`,
      `primary_region = "${region}"`,
      `kill_timeout = 30`,
      "",
      "[env]",
      `  PROVIDER = "${provider}"`,
      `  MODEL = "${preset.defaultModel ?? "m"}"`,
      "",
      "[http_service]",
      "  internal_port = 8080",
      "  force_https = true",
      '  auto_stop_machines = "stop"',
      "  auto_start_machines = true",
      "  min_machines_running = 0",
      "",
      "[[vm]]",
      '  size = "shared-cpu-1x"',
      '  memory = "512mb"',
      "",
      "[processes]",
      `  app = "uvicorn app.main:app --host 0.0.0.0 --port 8080"`,
      "",
    ].join("\n"),
  );
  if (dockerfile) {
    await fs.writeFile(
      path.join(dir, "Dockerfile"),
      uv ? "FROM python:3.13-slim\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --locked\n" : "FROM python:3.13-slim\nRUN pip install .\n",
    );
  }
  await fs.writeFile(path.join(dir, ".env.example"), preset.apiKeyEnv ? `${preset.apiKeyEnv}=\n` : "# no key needed\n");
  const options = { name, provider, model: preset.defaultModel ?? "m", baseUrl: preset.baseUrl ?? (provider === "custom" ? "https://my-vllm.modal.run/v1" : ""), region, pythonTool: uv ? "uv" : "pip", git: false, install: false, features, org: "personal", regions: "" } as const;
  const table = recorded ? `\n${recordedTable(options)}` : "";
  await fs.writeFile(path.join(dir, "pyproject.toml"), `[project]\nname = "${name}"\nversion = "0.1.0"\n${table}`);
  await fs.writeFile(path.join(dir, "app/main.py"), "app = None\n");
  if (uv && lock) await fs.writeFile(path.join(dir, "uv.lock"), "version = 1\n");
}

/** Every file under `dir` with its content, to prove a failed deploy changed nothing. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files[path.relative(dir, file)] = await fs.readFile(file, "utf8");
    }
  }
  return files;
}

/** A temp folder with a project, a bin dir holding the fake flyctl, its log and its state. */
export async function workspace(shape: ProjectShape = {}) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-deploy-"));
  const dir = path.join(root, "my-api");
  const binDir = path.join(root, "bin");
  const log = path.join(root, "flyctl.jsonl");
  const state = path.join(root, "flyctl-state.json");
  await makeProject(dir, shape);
  await installFakeFlyctl(binDir);
  return {
    root,
    dir,
    binDir,
    state,
    /** A clean environment: the fake first on PATH, no real tokens, CI=true. */
    env(scenario: FakeFlyctlScenario = {}, extra: Record<string, string> = {}, withFlyctl = true): Record<string, string> {
      return {
        PATH: [withFlyctl ? binDir : "", path.dirname(process.execPath), "/usr/bin", "/bin"].filter(Boolean).join(path.delimiter),
        HOME: root,
        CI: "true",
        ...scenarioEnv(log, state, scenario),
        ...extra,
      };
    },
    calls: () => readCalls(log),
    async setApps(apps: Record<string, { org: string; secrets?: string[]; deployed?: boolean }>) {
      const entries = Object.entries(apps).map(([name, a]) => [
        name,
        { org: a.org, secrets: Object.fromEntries((a.secrets ?? []).map((s) => [s, "digest"])), staged: [], deployed: a.deployed ?? true, version: 1, machines: ["iad"] },
      ]);
      await fs.writeFile(state, JSON.stringify({ apps: Object.fromEntries(entries) }));
    },
    remove: () => fs.rm(root, { recursive: true, force: true }),
  };
}

export type Workspace = Awaited<ReturnType<typeof workspace>>;

/** What flyctl stores from a `secrets import` call: its stdin through flyctl's own parser. */
export function storedSecrets(call: FakeFlyctlCall | undefined): Record<string, string> | undefined {
  return call ? parseSecrets(call.stdin).secrets : undefined;
}

/** Runs the built CLI as CI would (no terminal), in the workspace root. */
export function runCli(ws: Workspace, args: string[], env: Record<string, string>) {
  return execa(process.execPath, [BIN, ...args], { cwd: ws.root, env, extendEnv: false, reject: false, stdin: "ignore" });
}

export type StreamBehavior = "ok" | "error-event" | "status-500" | "no-done";

/** A stand-in for the deployed app on 127.0.0.1: /healthz and an SSE stream in the generated app's format. */
export async function startFakeApp(behavior: { health?: number; stream?: StreamBehavior } = {}) {
  const requests: { method: string; url: string; body: string }[] = [];
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    requests.push({ method: req.method ?? "", url: req.url ?? "", body });
    if (req.method === "GET" && req.url === "/healthz") {
      const status = behavior.health ?? 200;
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ status: status === 200 ? "ok" : "down" }));
      return;
    }
    if (req.method !== "POST" || req.url !== "/v1/chat/stream") {
      res.writeHead(404).end();
      return;
    }
    const stream = behavior.stream ?? "ok";
    if (stream === "status-500") {
      res.writeHead(500, { "content-type": "application/json" }).end('{"detail":"boom"}');
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    res.write(": ping\n\n");
    for (const text of ["Hello", " from", " Fly"]) res.write(`event: delta\ndata: ${JSON.stringify({ text })}\n\n`);
    if (stream === "error-event") res.write(`event: error\ndata: ${JSON.stringify({ code: "upstream_auth", message: "the provider rejected the key" })}\n\n`);
    if (stream === "ok") res.write("event: done\ndata: {}\n\n");
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    requests,
    env: { [SMOKE_ORIGIN_ENV]: origin },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeApp = Awaited<ReturnType<typeof startFakeApp>>;

/** The fake app for the tests of the enclosing `describe` (or file): started before them, closed after. */
export function useFakeApp(behavior: Parameters<typeof startFakeApp>[0] = {}): FakeApp {
  const app = {} as FakeApp;
  beforeAll(async () => {
    Object.assign(app, await startFakeApp(behavior));
  });
  afterAll(() => app.close());
  return app;
}
