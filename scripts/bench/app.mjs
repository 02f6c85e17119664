// The generated app: throughput against a bare ASGI ceiling, streaming overhead against the
// upstream itself, and how many slow streams one worker holds.
import http from "node:http";
import path from "node:path";
import { describeStreams, holdStreams, runConcurrent, streamOnce } from "./streams.mjs";
import { measureThroughput, findWrk } from "./load.mjs";
import { BARE_APP_DIR, prepareProject, productionUvicornFlags, serve } from "./python.mjs";
import { startUpstream } from "./upstream.mjs";
import { cpuMs, log, openFds, rssBytes, run, sleep } from "./util.mjs";

const CHAT_BODY = JSON.stringify({ messages: [{ role: "user", content: "Say something about Fly.io in a few words." }] });
const MODEL = "bench-model";

/** Streaming answers paced like a fast hosted model: 16 tokens, 20 ms apart (50 tokens/s). */
export const STREAM_SHAPE = { tokens: 16, intervalMs: 20, firstTokenMs: 20 };
/** How long after every client left the upstream may still see open streams (closing 1,000 takes seconds of CPU). */
export const LEAK_WAIT_MS = 10_000;
/** The slow upstream of the capacity test: 1 token per second, for longer than the test holds. */
export const SLOW_SHAPE = { tokens: 600, intervalMs: 1000, firstTokenMs: 1000 };

/**
 * Settings for every benchmarked app (app/config.py): the per-client rate limit (60/minute by
 * default, and all load here comes from one address) raised out of the way but left on, so its
 * cost is still measured.
 */
export const APP_ENV = { RATE_LIMIT: "1000000/second" };

/** How the default (mock) project is pointed at an OpenAI-compatible upstream: app/config.py. */
export function upstreamEnv(baseUrl) {
  return { ...APP_ENV, PROVIDER: "openai-compatible", BASE_URL: baseUrl, MODEL, INFERENCE_API_KEY: "sk-bench-not-a-key" };
}

// Our app's SSE: `event: delta` carries a token, `event: error` an error.
const appIsToken = (block) => /(^|\n)event: ?delta\b/.test(block);
const appIsError = (block) => /(^|\n)event: ?error\b/.test(block);
// The upstream's SSE: a chunk whose delta has non-empty content.
const upstreamIsToken = (block) => /"content":"[^"]/.test(block);

function targets(app, upstream) {
  return {
    direct: { url: `${upstream.baseUrl}/chat/completions`, body: { model: MODEL, stream: true, messages: [{ role: "user", content: "hi" }] }, isToken: upstreamIsToken },
    app: { url: `${app.origin}/v1/chat/stream`, body: JSON.parse(CHAT_BODY), isToken: appIsToken, isError: appIsError },
  };
}

async function streamingOverhead({ app, upstream, levels, deadline }) {
  await upstream.configure(STREAM_SHAPE);
  const t = targets(app, upstream);
  const out = [];
  for (const { concurrency, count } of levels) {
    if (Date.now() > deadline) {
      log(`streaming: skipped ${concurrency} concurrent streams (time limit)`);
      continue;
    }
    const row = { concurrency };
    for (const path of ["direct", "app"]) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
      const request = () => streamOnce({ ...t[path], agent, timeoutMs: 30_000 });
      // Warm-up: one round at this concurrency, discarded.
      await runConcurrent({ concurrency, count: concurrency, deadline: Date.now() + 30_000, request });
      const cpu0 = path === "app" ? cpuMs(app.pid) : null;
      // Both paths of a level always run (the level was started in time); each is bounded on its own.
      const results = await runConcurrent({ concurrency, count, deadline: Date.now() + 60_000, request });
      agent.destroy();
      row[path] = describeStreams(results);
      if (cpu0 !== null) {
        // CPU the app spent per relayed token (all streams of this level, warm-up excluded).
        const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
        row.appCpuMsPerToken = tokens ? (cpuMs(app.pid) - cpu0) / tokens : null;
        row.appCpuMsPerStream = results.length ? (cpuMs(app.pid) - cpu0) / results.length : null;
      }
    }
    row.added = {
      ttftP50: row.app.ttft.p50 - row.direct.ttft.p50,
      ttftP99: row.app.ttft.p99 - row.direct.ttft.p99,
      totalP50: row.app.total.p50 - row.direct.total.p50,
      totalP99: row.app.total.p99 - row.direct.total.p99,
    };
    log(
      `streams ×${concurrency}: TTFT p50 ${row.direct.ttft.p50.toFixed(1)} → ${row.app.ttft.p50.toFixed(1)} ms, p99 ${row.direct.ttft.p99.toFixed(1)} → ${row.app.ttft.p99.toFixed(1)} ms; errors ${row.app.errors}`,
    );
    out.push(row);
  }
  return out;
}

async function waitFor(predicate, withinMs) {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await sleep(200);
  }
  return false;
}

async function capacity({ dir, flags, upstream, levels, deadline, nofile, quick }) {
  const out = [];
  for (const target of levels) {
    if (Date.now() > deadline - 20_000) {
      log(`capacity: skipped ${target} streams (time limit)`);
      break;
    }
    // Each client stream is one socket to the app plus one from the app to the upstream.
    if (2 * target + 200 > nofile) {
      out.push({ target, skipped: `ulimit -n ${nofile} is too low for ${target} streams` });
      break;
    }
    const app = await serve(dir, { env: upstreamEnv(upstream.baseUrl), flags });
    try {
      // Warm the app up (imports, first connections) before the idle reading.
      await upstream.configure(STREAM_SHAPE);
      const t = targets(app, upstream);
      const agent = new http.Agent({ keepAlive: false });
      await runConcurrent({ concurrency: 10, count: 20, deadline, request: () => streamOnce({ ...t.app, agent }) });
      agent.destroy();
      await sleep(300);
      const idleRss = rssBytes(app.pid);
      await upstream.configure(SLOW_SHAPE);
      const before = await upstream.stats();
      const held = await holdStreams({
        ...t.app,
        target,
        // 50 new streams a second: opening one costs the app several ms of CPU (see the profile
        // notes in docs/benchmarks.md), so a faster ramp measures the ramp, not the holding.
        perTick: 5,
        tickMs: 100,
        minTokens: 2,
        holdMs: 20_000,
        deadline: Math.min(deadline, Date.now() + 75_000),
        measure: async ({ tokensSoFar }) => {
          const sample = { rss: rssBytes(app.pid), fds: openFds(app.pid), upstreamOpen: (await upstream.stats()).open };
          // Steady state: the app's CPU per relayed token while every stream is open.
          const cpu0 = cpuMs(app.pid);
          const tokens0 = tokensSoFar();
          const t0 = performance.now();
          await sleep(quick ? 2_000 : 3_000);
          sample.cpuShare = (cpuMs(app.pid) - cpu0) / (performance.now() - t0);
          sample.cpuMsPerToken = (cpuMs(app.pid) - cpu0) / Math.max(1, tokensSoFar() - tokens0);
          return sample;
        },
      });
      // Every client went away: the app should close every upstream stream (at once: a stream
      // left open keeps the provider generating) and keep serving.
      const closed = await waitFor(async () => (await upstream.stats()).open === 0, LEAK_WAIT_MS);
      const after = await upstream.stats();
      const healthy = await fetch(`${app.origin}/healthz`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.ok,
        () => false,
      );
      const row = {
        target,
        ...held,
        idleRss,
        rss: held.sample?.rss ?? null,
        fds: held.sample?.fds ?? null,
        upstreamOpenWhileHeld: held.sample?.upstreamOpen ?? null,
        perStreamBytes: held.sample?.rss && idleRss ? (held.sample.rss - idleRss) / Math.max(1, held.withTokens) : null,
        cpuShare: held.sample?.cpuShare ?? null,
        cpuMsPerToken: held.sample?.cpuMsPerToken ?? null,
        upstreamClosedAll: closed,
        upstreamAborted: after.aborted - before.aborted,
        upstreamLeftOpen: after.open,
        healthyAfter: healthy,
        // Holding is judged on errors and tokens; streams left open upstream are reported apart.
        ok: held.errors === 0 && held.withTokens === target && healthy,
      };
      out.push(row);
      if (!row.ok) break;
    } finally {
      await app.stop();
    }
  }
  return out;
}

/**
 * CPU per request of each app called directly in one process (scripts/bench/inprocess.py): no
 * kernel, no load generator sharing the cores, so the figures are steadier than the socket ones.
 */
function inProcessCosts(dir) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8" };
  const probe = run(path.join(dir, ".venv", "bin", "python"), [path.join(BARE_APP_DIR, "inprocess.py")], { cwd: dir, env, timeoutMs: 120_000 });
  const line = probe.stdout.trim().split("\n").pop() ?? "";
  try {
    const costs = JSON.parse(line);
    log(`in process: /healthz ${costs.healthz} µs (one-route FastAPI ${costs.oneRouteFastapi} µs), stream open ${costs.stream1} µs, ${costs.perToken} µs a token`);
    return costs;
  } catch {
    log(`in process: the probe failed (${(probe.stderr || probe.stdout).trim().split("\n").pop()})`);
    return null;
  }
}

export async function appBenchmarks({ quick, deadline }) {
  const project = prepareProject("default");
  const flags = productionUvicornFlags(project.dir);
  const nofile = Number(run("sh", ["-c", "ulimit -n"]).stdout.trim()) || 1024;
  log(`project ready (uv sync ${(project.syncMs / 1000).toFixed(1)} s): ${project.versions}; uvicorn flags from the Dockerfile: ${flags.join(" ") || "(none)"}`);
  findWrk();
  const upstream = await startUpstream();
  const seconds = quick ? 3 : 8;
  const connections = 64;
  const result = { versions: project.versions, sdkMaxConnections: project.sdkMaxConnections, uvicornFlags: flags, nofile, connections, seconds, throughput: {}, streaming: [], capacity: [] };
  const servers = [];
  const start = async (options) => {
    const s = await serve(project.dir, { flags, ...options });
    servers.push(s);
    return s;
  };
  try {
    // --- throughput: each endpoint against the bare ASGI ceiling. Both servers run at once and
    // are measured in alternation (A B A B), so a change in machine load hits both alike.
    // Two references on the same uvicorn and flags: the bare ASGI ceiling, and a one-route FastAPI
    // app (the framework floor: what any FastAPI route costs). The generated app turns uvicorn's
    // access log off itself (its own log line replaces it, and /healthz is not logged), so the
    // ceiling is measured twice: with the same flags as the app (uvicorn logs each request) and
    // with --no-access-log, the strict ceiling.
    const bare = await start({ appPath: "bare_asgi:app", appDir: BARE_APP_DIR });
    const bareQuiet = await start({ appPath: "bare_asgi:app", appDir: BARE_APP_DIR, flags: [...flags, "--no-access-log"] });
    const floor = await start({ appPath: "minimal_fastapi:app", appDir: BARE_APP_DIR, flags: [...flags, "--no-access-log"] });
    const mock = await start({ env: { ...APP_ENV, MOCK_TOKEN_DELAY: "0" } }); // the mock's pacing off: measure the app
    const app = await start({ env: upstreamEnv(upstream.baseUrl) });
    await upstream.configure({ tokens: 16, intervalMs: 0, firstTokenMs: 0 });
    const rounds = quick ? 1 : 2;
    const pair = async (label, a, b) => {
      const runs = { a: [], b: [] };
      for (let i = 0; i < rounds; i++) {
        for (const [key, t] of [["a", a], ["b", b]]) {
          const c0 = cpuMs(t.server.pid);
          const m = await measureThroughput({ url: `${t.server.origin}${t.path}`, method: t.method, body: t.body, connections, seconds: seconds / rounds, warmupSeconds: 1 });
          m.cpuMsPerRequest = (cpuMs(t.server.pid) - c0) / (m.requests || 1);
          runs[key].push(m);
        }
      }
      const merge = (list) => ({
        tool: list[0].tool,
        rps: list.reduce((x, m) => x + m.rps, 0) / list.length,
        requests: list.reduce((x, m) => x + m.requests, 0),
        p50: list.reduce((x, m) => x + m.p50, 0) / list.length,
        p99: Math.max(...list.map((m) => m.p99)),
        errors: list.reduce((x, m) => x + m.errors, 0),
        // warm-up requests are not counted in `requests`, so this slightly overstates the cost
        cpuMsPerRequest: list.reduce((x, m) => x + m.cpuMsPerRequest, 0) / list.length,
      });
      const out = [merge(runs.a), merge(runs.b)];
      log(`${label}: ${Math.round(out[0].rps)} vs ${Math.round(out[1].rps)} req/s`);
      return out;
    };
    const get = (server, path) => ({ server, path, method: "GET" });
    const post = (server, path) => ({ server, path, method: "POST", body: CHAT_BODY });
    [result.throughput.appHealth, result.throughput.bareHealth] = await pair("/healthz vs bare GET", get(mock, "/healthz"), get(bare, "/healthz"));
    [result.throughput.appHealthStrict, result.throughput.bareQuietHealth] = await pair("/healthz vs bare GET without access log", get(mock, "/healthz"), get(bareQuiet, "/healthz"));
    [result.throughput.floorHealth, result.throughput.bareQuietHealth2] = await pair("one-route FastAPI vs bare GET without access log", get(floor, "/healthz"), get(bareQuiet, "/healthz"));
    await bareQuiet.stop();
    await floor.stop();
    [result.throughput.mockChat, result.throughput.bareChat] = await pair("/v1/chat (mock) vs bare POST", post(mock, "/v1/chat"), post(bare, "/v1/chat"));
    [result.throughput.upstreamChat] = await pair("/v1/chat (upstream) vs bare POST", post(app, "/v1/chat"), post(bare, "/v1/chat"));
    await bare.stop();
    await mock.stop();

    // --- the same costs without sockets: each app called directly in one process.
    result.inProcess = inProcessCosts(project.dir);

    // --- streaming overhead through the app vs straight from the upstream.
    const levels = quick
      ? [
          { concurrency: 1, count: 15 },
          { concurrency: 50, count: 100 },
        ]
      : [
          { concurrency: 1, count: 60 },
          { concurrency: 50, count: 300 },
          { concurrency: 200, count: 800 },
        ];
    result.streamShape = STREAM_SHAPE;
    result.streaming = await streamingOverhead({ app, upstream, levels, deadline: deadline - (quick ? 25_000 : 90_000) });
    await app.stop();

    // --- capacity: open slow streams on a fresh 1-worker app per level.
    result.slowShape = SLOW_SHAPE;
    result.leakWaitS = LEAK_WAIT_MS / 1000;
    result.capacity = await capacity({
      dir: project.dir,
      flags,
      upstream,
      levels: quick ? [1000] : [500, 1000, 1500],
      deadline,
      nofile,
      quick,
    });
  } finally {
    for (const s of servers) await s.stop();
    await upstream.stop();
  }
  return result;
}
