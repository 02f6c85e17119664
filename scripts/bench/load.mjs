// HTTP throughput: wrk (Debian package) when present, else a bounded Node load loop.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { BENCH_CACHE, log, quantile, run, sleep } from "./util.mjs";

let wrkPath;

/** Finds wrk; as root with apt-get, installs the Debian package once (bounded). */
export function findWrk({ allowApt = true } = {}) {
  if (wrkPath !== undefined) return wrkPath;
  const which = run("sh", ["-c", "command -v wrk"]);
  if (which.code === 0) return (wrkPath = which.stdout.trim());
  if (allowApt && process.getuid?.() === 0 && run("sh", ["-c", "command -v apt-get"]).code === 0) {
    log("wrk not found: apt-get install wrk");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    let r = run("apt-get", ["install", "-y", "-qq", "wrk"], { env, timeoutMs: 180_000 });
    if (r.code !== 0) {
      run("apt-get", ["update", "-qq"], { env, timeoutMs: 180_000 });
      r = run("apt-get", ["install", "-y", "-qq", "wrk"], { env, timeoutMs: 180_000 });
    }
    const again = run("sh", ["-c", "command -v wrk"]);
    if (again.code === 0) return (wrkPath = again.stdout.trim());
  }
  log("wrk unavailable: using the Node load loop (it needs more CPU per request, so ratios are lower bounds)");
  return (wrkPath = null);
}

function luaFor(method, body) {
  const dir = path.join(BENCH_CACHE, "wrk");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${method.toLowerCase()}-${Buffer.from(body ?? "").toString("hex").slice(0, 16)}.lua`);
  const lines = [`wrk.method = "${method}"`];
  if (body !== undefined) {
    lines.push(`wrk.body = ${JSON.stringify(body)}`, `wrk.headers["Content-Type"] = "application/json"`);
  }
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

const unit = { us: 0.001, ms: 1, s: 1000 };
const toMs = (text) => {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  return m ? Number(m[1]) * unit[m[2]] : NaN;
};

/** One wrk run; returns { rps, p50, p99, errors, requests }. */
function wrk({ url, method = "GET", body, connections, seconds }) {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "--timeout", "5s"];
  if (method !== "GET" || body !== undefined) args.push("-s", luaFor(method, body));
  args.push(url);
  const r = run(wrkPath, args, { timeoutMs: (seconds + 20) * 1000 });
  if (r.code !== 0) throw new Error(`wrk failed: ${r.stderr}\n${r.stdout}`);
  const out = r.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    tool: "wrk",
    rps,
    requests,
    p50: toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? ""),
    p99: toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ""),
    errors: non2xx + socketErrors,
  };
}

/** The fallback: `connections` keep-alive loops for `seconds`, in this process. */
async function nodeLoad({ url, method = "GET", body, connections, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const deadline = performance.now() + seconds * 1000;
  const latencies = [];
  let errors = 0;
  const one = () =>
    new Promise((resolve) => {
      const start = performance.now();
      const req = http.request(url, { method, agent, headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {} }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode >= 400) errors++;
          latencies.push(performance.now() - start);
          resolve();
        });
      });
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  agent.destroy();
  const elapsed = (performance.now() - t0) / 1000;
  return { tool: "node", rps: latencies.length / elapsed, requests: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), errors };
}

/** Warm up briefly, then measure. */
export async function measureThroughput({ url, method = "GET", body, connections = 64, seconds = 5, warmupSeconds = 1 }) {
  const load = findWrk() ? wrk : nodeLoad;
  await load({ url, method, body, connections, seconds: warmupSeconds });
  await sleep(200);
  return load({ url, method, body, connections, seconds });
}
