// The generated app beside what a user would put there instead (the LiteLLM proxy) and the floor
// (a bare ASGI relay): streams one worker holds, CPU per token and per stream, added TTFT; then
// /healthz against a one-route FastAPI app and cold start (issue 16).
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { startLitellm } from "./litellm.mjs";
import { measureThroughput, findWrk } from "./load.mjs";
import { BARE_APP_DIR, prepareProject, productionUvicornFlags, serve } from "./python.mjs";
import { LEAK_WAIT_MS, addedTtft, capacitySearch, cpuCosts, disconnectCheck, upstreamIsToken } from "./sidebyside.mjs";
import { countWords, startUpstream } from "./upstream.mjs";
import { BENCH_CACHE, cpuMs, freePort, log, median, run, sleep, startProcess, waitReady } from "./util.mjs";

export const CHAT_BODY = JSON.stringify({ messages: [{ role: "user", content: "Say something about Fly.io in a few words." }] });
export const MODEL = "bench-model";

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

// Our app's SSE: `event: delta` carries tokens (several when STREAM_COALESCE_MS joins them),
// `event: error` an error.
export const appIsToken = (block) => /(^|\n)event: ?delta\b/.test(block);
export const appIsError = (block) => /(^|\n)event: ?error\b/.test(block);
export const appTokens = (block) => (appIsToken(block) ? countWords(JSON.parse(/(?:^|\n)data: ?(.*)/.exec(block)?.[1] ?? "{}").text ?? "") : 0);
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


/** granian against uvicorn, same app (issue 16's lever): pinned, installed into the project's venv. */
export const GRANIAN_VERSION = "2.8.7";

/**
 * Serves the app with granian, one worker, on 127.0.0.1. granian's main process supervises a
 * worker process that runs the app: its pid is the one measured.
 */
async function serveGranian(dir, env, cpus) {
  run(path.join(BENCH_CACHE, "uv", "bin", "uv"), ["pip", "install", "--quiet", "--python", path.join(dir, ".venv", "bin", "python"), `granian==${GRANIAN_VERSION}`], {
    env: { ...process.env, UV_PYTHON_DOWNLOADS: "never", UV_NO_PROGRESS: "1" },
    timeoutMs: 180_000,
  });
  const port = await freePort();
  const args = ["--interface", "asgi", "--host", "127.0.0.1", "--port", String(port), "--workers", "1", "--loop", "uvloop", "--no-ws", "app.main:app"];
  const proc = startProcess(path.join(dir, ".venv", "bin", "granian"), args, { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8", ...env }, cpus });
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(`${origin}/healthz`, proc, 60_000);
  const children = fs.readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  return { origin, pid: Number(children[0] ?? proc.pid), stop: () => proc.stop() };
}

/**
 * Cold start: from spawning the server to its first 200 on `path` (polled every 5 ms), the way a
 * stopped Fly Machine answers its first request. `runs` starts of each server, interleaved.
 */
async function coldStarts({ dir, flags, runs, servers }) {
  const out = Object.fromEntries(servers.map((s) => [s.id, []]));
  const firstOk = (url) =>
    new Promise((resolve) => {
      const req = http.get(url, { agent: false, timeout: 1_000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
      req.on("timeout", () => req.destroy());
    });
  for (let i = 0; i < runs; i++) {
    for (const s of servers) {
      const port = await freePort();
      const args = [s.appPath, "--host", "127.0.0.1", "--port", String(port), "--workers", "1", ...flags, ...(s.appDir ? ["--app-dir", s.appDir] : [])];
      const t0 = performance.now();
      const proc = startProcess(path.join(dir, ".venv", "bin", "uvicorn"), args, { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8", ...s.env } });
      let ms = NaN;
      while (proc.alive && performance.now() - t0 < 30_000) {
        if (await firstOk(`http://127.0.0.1:${port}${s.path}`)) {
          ms = performance.now() - t0;
          break;
        }
        await sleep(5);
      }
      await proc.stop();
      if (i > 0) out[s.id].push(ms); // the first start of each also compiles .pyc files: discarded
    }
  }
  return Object.fromEntries(Object.entries(out).map(([id, list]) => [id, { runs: list.length, p50: median(list), min: Math.min(...list), all: list }]));
}

/** `python -X importtime` of the app's module: the top-level imports by cumulative time. */
function importTimes(dir, env, top = 10) {
  const python = path.join(dir, ".venv", "bin", "python");
  const args = ["-X", "importtime", "-c", "import app.main"];
  const envAll = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8", ...env };
  run(python, args, { cwd: dir, env: envAll }); // warm the .pyc files
  const r = run(python, args, { cwd: dir, env: envAll });
  // Packages (names without a dot), wherever they were first imported; app.main is the total.
  const entries = [];
  let totalUs = NaN;
  for (const line of r.stderr.split("\n")) {
    const m = /^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)/.exec(line);
    if (!m) continue;
    if (m[4] === "app.main") totalUs = Number(m[2]);
    else if (!m[4].includes(".") && m[4] !== "app") entries.push({ name: m[4], selfUs: Number(m[1]), cumulativeUs: Number(m[2]) });
  }
  return { totalUs, top: entries.sort((a, b) => b.cumulativeUs - a.cumulativeUs).slice(0, top) };
}

/** The image size from the container check's report, when one was saved under .cache/bench. */
function imageSize() {
  const file = path.join(BENCH_CACHE, "container-report.json");
  try {
    const report = JSON.parse(fs.readFileSync(file, "utf8"));
    return { sizeBytes: report.sizeBytes ?? null, baseSizeBytes: report.baseSizeBytes ?? null, file };
  } catch {
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
  const direct = { url: `${upstream.baseUrl}/chat/completions`, body: { model: MODEL, stream: true, messages: [{ role: "user", content: "hi" }] }, isToken: upstreamIsToken };
  // Every server of the side-by-side on one core, the last: "per core" is then what it says, and
  // a server with threads of its own (granian's Rust runtime) cannot borrow the load generator's.
  const cpus = String(Math.max(0, (os.availableParallelism?.() ?? os.cpus().length) - 1));
  const result = { versions: project.versions, uvicornFlags: flags, nofile, pinnedTo: cpus, sideBySide: {}, errors: [] };
  const stops = [];
  try {
    // (b) first: LiteLLM takes tens of seconds to start, and its start is one of the figures.
    const servers = [];
    if (!quick) {
      try {
        const ll = await startLitellm(upstream.baseUrl, { cpus });
        stops.push(ll.stop);
        result.litellm = { version: ll.version, startMs: ll.startMs };
        servers.push({
          id: "litellm",
          pid: ll.pid,
          origin: ll.origin,
          healthPath: "/health/liveliness",
          stream: { ...direct, url: `${ll.origin}/v1/chat/completions`, headers: { authorization: ll.authorization } },
        });
      } catch (error) {
        log(`LiteLLM: ${error.message.split("\n")[0]}`);
        result.errors.push(`LiteLLM could not be started: ${error.message.split("\n")[0]}`);
      }
    }
    const app = await serve(project.dir, { env: upstreamEnv(upstream.baseUrl), flags, cpus });
    stops.push(app.stop);
    servers.unshift({
      id: "app",
      pid: app.pid,
      origin: app.origin,
      healthPath: "/healthz",
      stream: { url: `${app.origin}/v1/chat/stream`, body: JSON.parse(CHAT_BODY), isToken: appIsToken, tokensIn: appTokens, isError: appIsError },
    });
    const floor = await serve(project.dir, { appPath: "relay_floor:app", appDir: BARE_APP_DIR, env: { UPSTREAM_URL: `${upstream.baseUrl}/chat/completions` }, flags, cpus });
    stops.push(floor.stop);
    servers.push({ id: "floor", pid: floor.pid, origin: floor.origin, healthPath: "/healthz", stream: { ...direct, url: `${floor.origin}/v1/chat/completions` } });
    if (!quick) {
      try {
        const g = await serveGranian(project.dir, upstreamEnv(upstream.baseUrl), cpus);
        stops.push(g.stop);
        result.granian = { version: GRANIAN_VERSION };
        servers.push({ id: "granian", pid: g.pid, origin: g.origin, healthPath: "/healthz", stream: { url: `${g.origin}/v1/chat/stream`, body: JSON.parse(CHAT_BODY), isToken: appIsToken, tokensIn: appTokens, isError: appIsError } });
      } catch (error) {
        log(`granian: ${error.message.split("\n")[0]}`);
        result.errors.push(`granian could not be started: ${error.message.split("\n")[0]}`);
      }
    }

    // Leave time for /healthz and the cold starts after the side-by-side.
    const streamsDeadline = deadline - (quick ? 35_000 : 70_000);
    for (const server of servers) {
      const row = {};
      try {
        row.ttft = await addedTtft({ server, upstream, direct, count: quick ? 20 : 60 });
        row.cpu = await cpuCosts({ server, upstream, quick });
        log(
          `${server.id}: added TTFT p50 ${row.ttft.p50.toFixed(2)} ms p99 ${row.ttft.p99.toFixed(2)} ms; ${row.cpu.perTokenUs.toFixed(0)} µs CPU a token, ${row.cpu.perStreamUs.toFixed(0)} µs a stream`,
        );
        // Each server gets its share of what is left of the time.
        const left = servers.length - servers.indexOf(server);
        const share = Date.now() + (streamsDeadline - Date.now()) / left;
        row.capacity = await capacitySearch({
          server,
          upstream,
          direct,
          start: quick ? 50 : 25,
          max: quick ? 800 : 3200,
          rounds: 2,
          refine: !quick,
          deadline: share,
          nofile,
        });
        if (server.id === "app" && row.capacity.capacity > 0) {
          row.disconnect = await disconnectCheck({ server, upstream, target: Math.min(row.capacity.capacity, 200), deadline: Date.now() + 40_000 });
          log(`app: ${row.disconnect.leftOpen} of ${row.disconnect.target} upstream streams still open ${LEAK_WAIT_MS / 1000} s after their clients left`);
        }
        result.sideBySide[server.id] = row;
      } catch (error) {
        // One server failing (b, or granian) leaves the others' figures.
        log(`${server.id}: ${error.stack ?? error}`);
        result.errors.push(`${server.id}: ${String(error.message ?? error).split("\n")[0]}`);
      }
    }
    for (const stop of stops.splice(0)) await stop();

    // /healthz against a one-route FastAPI app, same uvicorn and flags (access log off in both:
    // the app turns it off itself), measured in alternation so machine load hits both alike.
    const same = [...flags, "--no-access-log"];
    const mock = await serve(project.dir, { env: { ...APP_ENV }, flags: same });
    stops.push(mock.stop);
    const one = await serve(project.dir, { appPath: "minimal_fastapi:app", appDir: BARE_APP_DIR, flags: same });
    stops.push(one.stop);
    const seconds = quick ? 2 : 4;
    const runs = { app: [], oneRoute: [] };
    for (let i = 0; i < 2; i++) {
      for (const [key, server] of [["app", mock], ["oneRoute", one]]) {
        const c0 = cpuMs(server.pid);
        const m = await measureThroughput({ url: `${server.origin}/healthz`, connections: 64, seconds, warmupSeconds: 1 });
        m.cpuUsPerRequest = ((cpuMs(server.pid) - c0) * 1000) / (m.requests || 1);
        runs[key].push(m);
      }
    }
    const mean = (list, k) => list.reduce((x, m) => x + m[k], 0) / list.length;
    result.healthz = Object.fromEntries(
      Object.entries(runs).map(([k, list]) => [k, { tool: list[0].tool, rps: mean(list, "rps"), p99: Math.max(...list.map((m) => m.p99)), errors: list.reduce((x, m) => x + m.errors, 0), cpuUsPerRequest: mean(list, "cpuUsPerRequest") }]),
    );
    log(`/healthz: app ${Math.round(result.healthz.app.rps)} req/s, one-route FastAPI ${Math.round(result.healthz.oneRoute.rps)} req/s`);
    for (const stop of stops.splice(0)) await stop();

    // Cold start, and what the app's import spends its time on.
    result.coldStart = await coldStarts({
      dir: project.dir,
      flags,
      runs: quick ? 3 : 6,
      servers: [
        // Configured for a provider, as deployed.
        { id: "app", appPath: "app.main:app", path: "/healthz", env: upstreamEnv(upstream.baseUrl) },
        { id: "oneRoute", appPath: "minimal_fastapi:app", appDir: BARE_APP_DIR, path: "/healthz", env: {} },
      ],
    });
    log(`cold start p50: app ${result.coldStart.app.p50.toFixed(0)} ms, one-route FastAPI ${result.coldStart.oneRoute.p50.toFixed(0)} ms`);
    result.importTime = importTimes(project.dir, upstreamEnv(upstream.baseUrl));
    result.image = imageSize();
    if (!quick) result.inProcess = inProcessCosts(project.dir);
  } finally {
    for (const stop of stops) await stop();
    await upstream.stop();
  }
  return result;
}
