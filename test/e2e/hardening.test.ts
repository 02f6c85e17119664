/**
 * Production hardening of a generated project (issue #6), end to end: a real uvicorn on
 * 127.0.0.1 in front of the fake OpenAI-compatible upstream. Fault injection, a disconnect
 * storm, SIGTERM during open streams, and schemathesis against the OpenAPI document.
 * Every wait is bounded and polls something observable (metrics, the upstream's sockets).
 */
import { execa, type ResultPromise } from "execa";
import fs from "fs-extra";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { startFakeUpstream, type Behavior, type FakeUpstream } from "../support/fake-upstream.js";
import { chatStream, codeOf, ensureSchemathesis, eventually, scrape } from "../support/hardening.js";
import { freePort, projectEnv, serveProject, type RunningApp } from "../support/serve.js";

const KEY = "sk-api-e2e-new-0123456789abcdef";
const OLD_KEY = "sk-api-e2e-old-0123456789abcdef";
const STORM = 50;

let root: string;
let dir: string;
let upstream: FakeUpstream;
const apps: RunningApp[] = [];

async function serve(env: Record<string, string>): Promise<RunningApp> {
  const app = await serveProject(dir, { API_KEYS: `${KEY},${OLD_KEY}`, RATE_LIMIT: "off", ...env });
  apps.push(app);
  return app;
}

const metricsOf = (app: RunningApp) => scrape(app.origin, KEY);
const inFlight = async (app: RunningApp) => {
  const m = await metricsOf(app);
  return { streams: m.get("sse_streams_in_flight")!, requests: m.get("http_requests_in_flight")!, tasks: m.get("asyncio_tasks")! };
};

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-hardening-"));
  dir = path.join(root, "hardened");
  // Default features (auth, ratelimit, observability on); the upstream's address comes from BASE_URL.
  const result = await runCli([dir, "--provider", "custom", "--base-url", "http://127.0.0.1:9/v1", "--model", "fake-model", "--yes", "--install", "--no-git"]);
  if (result.exitCode !== 0) throw new Error(`CLI failed:\n${result.stderr}\n${result.stdout}`);
  upstream = await startFakeUpstream();
});

afterAll(async () => {
  for (const app of apps) await app.stop().catch(() => {});
  await upstream?.close();
  if (root) await fs.remove(root);
});

describe("hardened project: keys, request ids, logs, metrics", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await serve({ BASE_URL: upstream.baseUrl });
  });

  it("answers 401 without a key, serves with either key of a rotation, keeps /healthz and /docs open", async () => {
    upstream.behave({ kind: "stream", tokens: ["Hello", " there"], usage: true });
    expect((await chatStream(app.origin)).status).toBe(401);
    expect((await chatStream(app.origin, { key: "sk-api-not-a-key-0123456789" })).status).toBe(401);
    for (const key of [KEY, OLD_KEY]) expect(codeOf((await chatStream(app.origin, { key })).last)).toBeUndefined();
    expect((await chatStream(app.origin, { key: OLD_KEY })).last?.event).toBe("done");
    const health = await fetch(`${app.origin}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
    expect((await fetch(`${app.origin}/docs`)).status).toBe(200);
    expect((await fetch(`${app.origin}/metrics`)).status).toBe(401);
  });

  it("logs one JSON line per request, with no key and no prompt", async () => {
    await chatStream(app.origin, { key: KEY, content: "a very private prompt" });
    const lines = app
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{") && line.includes('"logger": "app.access"'))
      .map((line) => JSON.parse(line));
    const stream = lines.filter((l) => l.route === "/v1/chat/stream" && l.status === 200).at(-1);
    expect(stream).toMatchObject({ method: "POST", stream: true, upstream_status: 200, key_id: expect.stringMatching(/^[0-9a-f]{8}$/) });
    expect(stream.ttft_ms).toBeGreaterThan(0);
    expect(stream.duration_ms).toBeGreaterThanOrEqual(stream.ttft_ms);
    expect(lines.some((l) => l.status === 401)).toBe(true);
    expect(app.output()).not.toContain("a very private prompt");
    expect(app.output()).not.toContain(KEY);
  });
});

describe("fault injection: every upstream failure ends in a well-formed error, and the server keeps serving", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await serve({ BASE_URL: upstream.baseUrl, READ_TIMEOUT: "1", MAX_RETRIES: "1" });
  });

  const faults: { name: string; behavior: Behavior; code: string; http?: number; deltas: number; attempts: number }[] = [
    { name: "429 with a short Retry-After (retried once)", behavior: { kind: "status", status: 429, message: "slow down", retryAfter: "1" }, code: "rate_limited", http: 429, deltas: 0, attempts: 2 },
    { name: "500 (retried once)", behavior: { kind: "status", status: 500, message: "boom" }, code: "upstream_error", http: 502, deltas: 0, attempts: 2 },
    { name: "503 (retried once)", behavior: { kind: "status", status: 503, message: "overloaded" }, code: "upstream_error", http: 502, deltas: 0, attempts: 2 },
    { name: "stream dropped mid-way (never retried)", behavior: { kind: "drop-after", tokens: ["one", " two"] }, code: "upstream_unavailable", deltas: 2, attempts: 1 },
    { name: "malformed chunk", behavior: { kind: "malformed", tokens: ["one", " two"] }, code: "upstream_error", deltas: 2, attempts: 1 },
    { name: "first token slower than READ_TIMEOUT", behavior: { kind: "stream", tokens: ["late"], firstDelayMs: 5_000 }, code: "timeout", http: 504, deltas: 0, attempts: 1 },
  ];

  it.each(faults)("$name → $code", async ({ behavior, code, http, deltas, attempts }) => {
    upstream.behave(behavior);
    const before = upstream.requests.length;
    const failed = await chatStream(app.origin, { key: KEY });
    expect(failed.status).toBe(200);
    expect(failed.events.filter((e) => e.event === "delta")).toHaveLength(deltas);
    expect(failed.last?.event, JSON.stringify(failed.events)).toBe("error");
    const error = JSON.parse(failed.last!.data!);
    expect(error).toEqual({ code, message: expect.any(String) });
    expect(error.message).not.toMatch(/Traceback|File "|\.py/);
    expect(upstream.requests.length - before).toBe(attempts);
    if (http) {
      const response = await fetch(`${app.origin}/v1/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
      });
      expect(response.status).toBe(http);
      expect((await response.json()).error.code).toBe(code);
    }
    upstream.behave({ kind: "stream", tokens: ["still", " here"] });
    expect((await chatStream(app.origin, { key: KEY })).last?.event).toBe("done");
  });

  it("leaves no stream, task or upstream connection open behind", async () => {
    // Completed answers leave at most one idle keep-alive connection in the app's pool.
    await eventually(async () => upstream.openConnections(), (n) => n <= 1, 5_000, "open upstream connections");
    const settled = await eventually(() => inFlight(app), (v) => v.streams === 0 && v.requests === 1, 5_000, "in-flight");
    expect(settled.tasks).toBeLessThan(12);
    expect(app.output()).not.toContain("Traceback");
  });

  it("a refused connection to the provider is an error event and a 502, and the app keeps serving", async () => {
    const dead = await freePort(); // nothing listens there: connections are refused
    const refused = await serve({ BASE_URL: `http://127.0.0.1:${dead}/v1`, MAX_RETRIES: "1" });
    for (let i = 0; i < 2; i++) {
      const result = await chatStream(refused.origin, { key: KEY });
      expect(codeOf(result.last)).toBe("upstream_unavailable");
    }
    const response = await fetch(`${refused.origin}/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(502);
    expect((await fetch(`${refused.origin}/healthz`)).status).toBe(200);
    expect(refused.output()).not.toContain("Traceback");
  });
});

describe(`disconnect storm: ${STORM} clients leave mid-stream`, () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await serve({ BASE_URL: upstream.baseUrl });
  });

  async function storm(): Promise<void> {
    upstream.behave({ kind: "stream", tokens: Array.from({ length: 400 }, (_, i) => ` t${i}`), delayMs: 25 });
    const aborted = upstream.requests.filter((r) => r.abortedEarly).length;
    const controllers = Array.from({ length: STORM }, () => new AbortController());
    // Each client reads its first delta, then goes away while the upstream is still answering.
    const firsts = await Promise.all(
      controllers.map((controller) => chatStream(app.origin, { key: KEY, signal: controller.signal, stopAt: (e) => e.event === "delta" })),
    );
    expect(firsts.every((r) => r.last?.event === "delta")).toBe(true);
    for (const controller of controllers) controller.abort();
    await upstream.waitForAborts(aborted + STORM, 10_000);
    await eventually(() => inFlight(app), (v) => v.streams === 0 && v.requests === 1, 10_000, "in-flight after the storm");
    await eventually(async () => upstream.openConnections(), (n) => n === 0, 5_000, "open upstream connections");
  }

  it("closes every upstream request, and tasks and memory return to their baseline", async () => {
    await storm(); // warms up: buffers, pools and caches reach their size
    const baseline = await metricsOf(app);
    await storm();
    await storm();
    // The tasks of requests that just ended finish within moments; a leaked one never does.
    const tasksBefore = baseline.get("asyncio_tasks")!;
    await eventually(async () => (await metricsOf(app)).get("asyncio_tasks")!, (n) => n <= tasksBefore, 5_000, "asyncio tasks after the storms");
    const after = await metricsOf(app);
    const rss = (m: Map<string, number>) => m.get("process_resident_memory_bytes")! / 2 ** 20;
    const figures = { rssBeforeMiB: rss(baseline).toFixed(1), rssAfterMiB: rss(after).toFixed(1), tasksBefore: baseline.get("asyncio_tasks"), tasksAfter: after.get("asyncio_tasks") };
    console.log(`disconnect storm (${STORM} clients, 2 rounds after a warm-up): ${JSON.stringify(figures)}`);
    expect(after.get("asyncio_tasks")).toBeLessThanOrEqual(baseline.get("asyncio_tasks")!);
    expect(rss(after) - rss(baseline)).toBeLessThan(8);
    // The app still answers.
    upstream.behave({ kind: "stream", tokens: ["ok"] });
    expect((await chatStream(app.origin, { key: KEY })).last?.event).toBe("done");
  });
});

describe("SIGTERM during open streams", () => {
  it("lets a short stream finish, ends a long one with a final event at SHUTDOWN_GRACE, and exits cleanly in time", async () => {
    const grace = 2;
    const app = await serve({ BASE_URL: upstream.baseUrl, SHUTDOWN_GRACE: String(grace) });
    const firstDelta = (e: { event?: string }) => e.event === "delta";
    // A: done about a second after the signal. B: would take minutes.
    upstream.behave({ kind: "stream", tokens: ["a0", " a1", " a2", " a3"], delayMs: 300 });
    const shortResponse = fetch(`${app.origin}/v1/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ messages: [{ role: "user", content: "short" }] }),
    });
    const { readSse } = await import("../support/sse.js");
    const shortEvents: { event?: string; data?: string }[] = [];
    const shortDone = shortResponse.then((r) => readSse(r, (e) => void shortEvents.push(e)));
    await eventually(async () => shortEvents.some(firstDelta), Boolean, 5_000, "first delta of the short stream");
    upstream.behave({ kind: "stream", tokens: Array.from({ length: 300 }, (_, i) => ` b${i}`), delayMs: 1_000 });
    const longEvents: { event?: string; data?: string }[] = [];
    const longDone = fetch(`${app.origin}/v1/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ messages: [{ role: "user", content: "long" }] }),
    }).then((r) => readSse(r, (e) => void longEvents.push(e)));
    await eventually(async () => longEvents.some(firstDelta), Boolean, 5_000, "first delta of the long stream");
    const aborted = upstream.requests.filter((r) => r.abortedEarly).length;

    const signalled = performance.now();
    app.process.kill("SIGTERM");
    const [short, long] = await Promise.all([shortDone, longDone]);
    const endedAfter = (performance.now() - signalled) / 1000;
    const exit = await app.process;
    const exitedAfter = (performance.now() - signalled) / 1000;
    console.log(`SIGTERM: long stream ended after ${endedAfter.toFixed(2)} s, process exited after ${exitedAfter.toFixed(2)} s (grace ${grace} s)`);

    expect(short.filter((e) => e.comment === undefined).at(-1)?.event).toBe("done");
    const last = long.filter((e) => e.comment === undefined).at(-1);
    expect(last?.event).toBe("error");
    expect(JSON.parse(last!.data!).code).toBe("shutting_down");
    expect(endedAfter).toBeGreaterThan(grace - 0.5);
    expect(exitedAfter).toBeLessThan(grace + 3);
    // uvicorn ends by re-raising the signal it handled, after a complete shutdown.
    expect(exit.exitCode === 0 || exit.signal === "SIGTERM", `${exit.exitCode} ${exit.signal}`).toBe(true);
    expect(app.output()).toContain("Application shutdown complete");
    expect(app.output()).not.toMatch(/Traceback|Cancel \d+ running task/);
    await upstream.waitForAborts(aborted + 1, 5_000);
    // Stopped listening: new connections are refused.
    await expect(fetch(`${app.origin}/healthz`)).rejects.toThrow();
  });
});

/** redis-server from Debian's package (.ci/run installs it); without it these tests say they skipped. */
const REDIS_SERVER = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((file) => fs.existsSync(file));

/** Redis's PING over a raw socket: true once the server answers. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (reply) => {
      socket.destroy();
      resolve(reply.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
  });
}

describe.skipIf(!REDIS_SERVER)("rate limits shared by two Machines through a real Redis", () => {
  let redis: ResultPromise;
  let machines: RunningApp[];
  beforeAll(async () => {
    const port = await freePort();
    // In memory only, on loopback; the test stops it.
    redis = execa(REDIS_SERVER!, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { reject: false });
    await eventually(() => redisAnswers(port), Boolean, 10_000, "redis-server answering PING");
    const env = { BASE_URL: upstream.baseUrl, RATE_LIMIT: "3/minute", REDIS_URL: `redis://127.0.0.1:${port}/0` };
    machines = [await serve(env), await serve(env)];
  });
  afterAll(() => {
    redis?.kill("SIGKILL");
  });

  it("counts a key's requests on both Machines together: the fourth in a minute gets 429 with Retry-After", async () => {
    upstream.behave({ kind: "stream", tokens: ["Hi"], usage: true });
    const [a, b] = machines;
    const statuses = [];
    for (const machine of [a!, b!, a!]) statuses.push((await chatStream(machine.origin, { key: KEY })).status);
    expect(statuses).toEqual([200, 200, 200]);
    for (const machine of [b!, a!]) {
      const refused = await fetch(`${machine.origin}/v1/chat/stream`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ messages: [{ role: "user", content: "one too many" }] }),
      });
      expect(refused.status).toBe(429);
      expect((await refused.json()).error.code).toBe("rate_limited");
      const retryAfter = Number(refused.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Another key has a count of its own.
    expect((await chatStream(b!.origin, { key: OLD_KEY })).status).toBe(200);
  });

  it("lets requests through when Redis goes away, and says so in the log", async () => {
    redis.kill("SIGKILL");
    await redis;
    const [a] = machines;
    expect((await chatStream(a!.origin, { key: KEY })).last?.event).toBe("done");
    expect(a!.output()).toContain("rate limit storage failed, not limiting");
  });
});

describe("schemathesis against the OpenAPI document", () => {
  let schemathesis: string;
  let app: RunningApp;
  beforeAll(async () => {
    schemathesis = await ensureSchemathesis();
    app = await serve({ PROVIDER: "mock", MOCK_TOKEN_DELAY: "0" });
  });

  // Every check but positive_data_acceptance: this deployment's own limits (body size, characters
  // across messages) rightly refuse some documents the schema alone allows.
  async function run(headers: string[]) {
    const args = [
      "run", `${app.origin}/openapi.json`,
      "--checks", "all", "--exclude-checks", "positive_data_acceptance",
      "--include-tag", "chat", "--include-tag", "health",
      "--max-examples", "25", "--seed", "6", "--workers", "1", // one worker: see app-contract.test.ts
      "--generation-database", "none", "--no-color",
      ...headers,
    ];
    return execa(schemathesis, args, { reject: false, all: true, cwd: root, env: projectEnv(), extendEnv: false, timeout: 120_000 });
  }

  it("finds no 5xx and no schema violation with the key", { timeout: 150_000 }, async () => {
    const result = await run(["-H", `Authorization: Bearer ${KEY}`]);
    expect(result.exitCode, result.all?.slice(-4000)).toBe(0);
    expect(result.all).toMatch(/\d+ generated, \d+ passed/);
  });

  it("finds none without a key either (every protected operation answers a documented 401)", { timeout: 150_000 }, async () => {
    const result = await run([]);
    expect(result.exitCode, result.all?.slice(-4000)).toBe(0);
    expect(app.output()).not.toContain("Traceback");
  });
});
