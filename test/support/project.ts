import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findProvider } from "../../src/providers.js";
import { runCli } from "./cli.js";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream.js";
import { projectEnv, serveProject, type RunningApp } from "./serve.js";
import { readSse, type SseEvent } from "./sse.js";

export interface Combo {
  /** Short name, also the project directory. */
  id: string;
  args: string[];
}

const KEY = "sk-test-not-a-real-key-1234";

/** The environment that points a generated app at the fake upstream, the way a user would configure it. */
function upstreamEnv(provider: string, upstream: FakeUpstream): Record<string, string> {
  const preset = findProvider(provider)!;
  const env: Record<string, string> = { BASE_URL: upstream.baseUrl };
  if (preset.apiKeyEnv) env[preset.apiKeyEnv] = KEY;
  return env;
}

async function streamChat(origin: string, content: string, onEvent?: (e: SseEvent) => boolean | void) {
  const response = await fetch(`${origin}/v1/chat/stream`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ messages: [{ role: "user", content }] }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  return readSse(response, (event) => onEvent?.(event));
}

const deltas = (events: SseEvent[]) =>
  events.filter((e) => e.event === "delta").map((e) => JSON.parse(e.data!).text as string).join("");

/**
 * Generates one project with the CLI (installing it for real), then lints it,
 * runs its own tests, serves it on 127.0.0.1 and reads real SSE streams.
 */
export function projectSuite(combo: Combo) {
  describe(`generated project: ${combo.id} (${combo.args.join(" ") || "defaults"})`, () => {
    let root: string;
    let dir: string;
    let provider: string;
    let model: string;
    let upstream: FakeUpstream;
    let app: RunningApp | undefined;

    beforeAll(async () => {
      root = await fs.mkdtemp(path.join(os.tmpdir(), `cff-${combo.id}-`));
      dir = path.join(root, combo.id);
      const result = await runCli([dir, ...combo.args, "--yes", "--install", "--json"]);
      if (result.exitCode !== 0) throw new Error(`CLI failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
      const doc = JSON.parse(result.stdout);
      provider = doc.options.provider;
      model = doc.options.model;
      expect(doc.steps.find((s: { step: string }) => s.step === "install")?.status).toBe("done");
      upstream = await startFakeUpstream();
    });

    afterAll(async () => {
      await app?.stop();
      await upstream?.close();
      if (root) await fs.remove(root);
    });

    it("passes ruff check and ruff format --check", async () => {
      const check = await execa(path.join(dir, ".venv/bin/ruff"), ["check", "."], { cwd: dir, reject: false });
      expect(check.stdout + check.stderr).toContain("All checks passed");
      const format = await execa(path.join(dir, ".venv/bin/ruff"), ["format", "--check", "."], { cwd: dir, reject: false });
      expect(format.exitCode, format.stdout).toBe(0);
    });

    it("passes mypy, strict as its pyproject.toml sets it", async () => {
      const result = await execa(path.join(dir, ".venv/bin/mypy"), ["app"], { cwd: dir, reject: false });
      expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
      expect(result.stdout).toMatch(/^Success: no issues found/m);
      // A cold run checks every dependency's hints too: on a shared machine that takes a minute.
    }, 300_000);

    it("passes its own pytest suite", async () => {
      const result = await execa(path.join(dir, ".venv/bin/pytest"), ["-q", "-p", "no:cacheprovider"], {
        cwd: dir,
        reject: false,
        env: projectEnv({ CI: "true" }),
        extendEnv: false,
      });
      expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
      expect(result.stdout).toMatch(/\d+ passed/);
      expect(result.stdout).not.toMatch(/\d+ failed/);
      // The suite starts real servers (every way to start, every refused setting): on a shared
      // machine it outgrows vitest's default bound.
    }, 300_000);

    it("serves, answers /healthz without calling the provider, and streams from its configured provider", async () => {
      const useUpstream = provider !== "mock";
      app = await serveProject(dir, useUpstream ? upstreamEnv(provider, upstream) : {});
      const health = await fetch(`${app.origin}/healthz`);
      expect(health.status).toBe(200);
      expect(upstream.requests).toHaveLength(0);

      upstream.behave({ kind: "stream", tokens: ["Fly", " streams", " fast"], usage: true });
      const events = await streamChat(app.origin, "hello there");
      const done = events.find((e) => e.event === "done");
      expect(done, JSON.stringify(events)).toBeDefined();
      expect(events.some((e) => e.event === "error")).toBe(false);
      if (useUpstream) {
        expect(deltas(events)).toBe("Fly streams fast");
        const [request] = upstream.requests;
        expect(request?.body.stream).toBe(true);
        expect(request?.body.model).toBe(model);
        expect(request?.body.messages).toEqual([{ role: "user", content: "hello there" }]);
        const preset = findProvider(provider)!;
        if (preset.apiKeyEnv) expect(request?.authorization).toBe(`Bearer ${KEY}`);
      } else {
        expect(deltas(events).length).toBeGreaterThan(0);
      }
      const openapi = await (await fetch(`${app.origin}/openapi.json`)).json();
      expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(["/v1/chat/stream", "/v1/chat", "/healthz"]));
    });

    // The offline mock has no upstream to fail or to close.
    const callsUpstream = combo.args.includes("--provider") && combo.args[combo.args.indexOf("--provider") + 1] !== "mock";

    if (!callsUpstream) return;

    it("turns an upstream failure into an SSE error event and keeps serving", async () => {
      upstream.behave({ kind: "status", status: 429, message: "slow down", retryAfter: "1" });
      const failed = await streamChat(app!.origin, "hi");
      const error = failed.find((e) => e.event === "error");
      expect(error, JSON.stringify(failed)).toBeDefined();
      expect(JSON.parse(error!.data!).code).toBe("rate_limited");
      expect(error!.data).not.toContain(KEY);

      upstream.behave({ kind: "stream", tokens: ["still", " here"] });
      expect(deltas(await streamChat(app!.origin, "again"))).toBe("still here");
    });

    it("closes the upstream request at once when the client disconnects", async () => {
      const aborted = upstream.requests.filter((r) => r.abortedEarly).length;
      upstream.behave({ kind: "stream", tokens: Array.from({ length: 200 }, (_, i) => ` t${i}`), delayMs: 50 });
      const controller = new AbortController();
      const response = await fetch(`${app!.origin}/v1/chat/stream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "long answer please" }] }),
        signal: controller.signal,
      });
      let seen = 0;
      await readSse(response, (event) => (event.event === "delta" ? ++seen < 3 : true)).catch(() => []);
      controller.abort();
      expect(seen).toBe(3);
      // The upstream sees its response cut short long before the 10 s the full answer would take.
      await upstream.waitForAborts(aborted + 1, 5_000);
      const healthy = await fetch(`${app!.origin}/healthz`);
      expect(healthy.status).toBe(200);
    });
  });
}
