// Shared helpers for the benchmark: paths, bounded child processes, statistics, formatting.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BENCH_CACHE = path.join(REPO_ROOT, ".cache", "bench");
export const CLI = path.join(REPO_ROOT, "bin", "create-fly-fastapi.js");

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function log(message) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Makes a fresh directory under the system temp dir; removed by `cleanupTemp()`. */
const temps = [];
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cff-bench-${prefix}-`));
  temps.push(dir);
  return dir;
}
export function cleanupTemp() {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs a command to completion with a hard time limit; never throws on a non-zero exit.
 * Returns { code, stdout, stderr, ms } where ms is the wall time from spawn to exit.
 */
export function run(cmd, args, { cwd, env, timeoutMs = 120_000, input } = {}) {
  const start = performance.now();
  const result = spawnSync(cmd, args, {
    cwd,
    env: env ?? process.env,
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: 64 * 1024 * 1024,
    encoding: "utf8",
  });
  const ms = performance.now() - start;
  return {
    code: result.status ?? (result.signal ? 128 : -1),
    signal: result.signal,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? (result.error ? String(result.error) : ""),
    ms,
    timedOut: result.error?.code === "ETIMEDOUT",
  };
}

/** Like run() but throws with the output when the command fails. */
export function must(cmd, args, options = {}) {
  const result = run(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${result.timedOut ? "timed out" : `exit ${result.code}`}):\n${result.stderr.slice(-3000)}\n${result.stdout.slice(-2000)}`,
    );
  }
  return result;
}

/**
 * Starts a long-running child (server). Its output goes to a log file, not a pipe: the benchmark
 * blocks in spawnSync (wrk) while servers run, and a full pipe would stall a server that logs.
 * `stop()` sends SIGTERM, then SIGKILL after `graceMs`.
 */
let logCount = 0;
export function startProcess(cmd, args, { cwd, env, cpus } = {}) {
  // `cpus` (e.g. "1"): pinned with taskset, which execs the command (same pid), so the process and
  // every thread and child it makes run on those cores only.
  if (cpus !== undefined && fs.existsSync("/usr/bin/taskset")) [cmd, args] = ["/usr/bin/taskset", ["-c", cpus, cmd, ...args]];
  fs.mkdirSync(path.join(BENCH_CACHE, "logs"), { recursive: true });
  const logFile = path.join(BENCH_CACHE, "logs", `${process.pid}-${++logCount}-${path.basename(cmd)}.log`);
  const fd = fs.openSync(logFile, "w");
  const child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ["ignore", fd, fd], detached: false });
  fs.closeSync(fd);
  const output = () => {
    try {
      const text = fs.readFileSync(logFile, "utf8");
      return text.length > 100_000 ? text.slice(-100_000) : text;
    } catch {
      return "";
    }
  };
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    pid: child.pid,
    logFile,
    output,
    exited,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async stop(graceMs = 5_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(logFile, { force: true });
    },
  };
}

export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `url` until it answers 2xx, the process dies, or `withinMs` passes. */
export async function waitReady(url, proc, withinMs = 30_000) {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (proc && !proc.alive) throw new Error(`server exited before it was ready:\n${proc.output().slice(-4000)}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${url} not ready within ${withinMs} ms:\n${proc?.output().slice(-4000) ?? ""}`);
}

/** Resident memory of a process in bytes (Linux /proc), or null. */
export function rssBytes(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb * 1024 : null;
  } catch {
    return null;
  }
}

/** Open file descriptors of a process (Linux /proc), or null. */
export function openFds(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

// ---- statistics -----------------------------------------------------------

export function quantile(values, q) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank: p99 of 100 samples is the 99th value, not an interpolation past it.
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}
export const median = (values) => {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
export const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
export function summary(values) {
  return {
    n: values.length,
    min: Math.min(...values),
    p50: median(values),
    p90: quantile(values, 0.9),
    p99: quantile(values, 0.99),
    max: Math.max(...values),
  };
}

// ---- formatting -------------------------------------------------------------

export const fmtS = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(3)} s` : "n/a");
export const fmtMs = (ms, digits = 1) => (Number.isFinite(ms) ? `${ms.toFixed(digits)} ms` : "n/a");
export const fmtRatio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "n/a");
export function fmtBytes(bytes) {
  if (!Number.isFinite(bytes)) return "n/a";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}
export const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");

/** A markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Total bytes and file count under a directory (regular files, no symlink following). */
export function duBytes(dir) {
  let bytes = 0;
  let files = 0;
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) {
        bytes += fs.statSync(p).size;
        files++;
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { bytes, files };
}

/** Describes this machine for the report. */
export function machine() {
  const cpus = os.cpus();
  let kernel = os.release();
  let distro = "";
  try {
    distro = /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync("/etc/os-release", "utf8"))?.[1] ?? "";
  } catch {}
  const nofile = run("sh", ["-c", "ulimit -n"]).stdout.trim();
  const python = run("python3", ["--version"]).stdout.trim();
  const npm = run("npm", ["--version"]).stdout.trim();
  return {
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${distro} (Linux ${kernel})`.trim(),
    node: process.version,
    npm,
    python,
    nofile,
  };
}

let clockTicks;
/** CPU time (user + system) a process has used, in ms (Linux /proc), or null. */
export function cpuMs(pid) {
  return cpuSplit(pid)?.total ?? null;
}
/** { user, system, total } CPU ms of a process (Linux /proc), or null. */
export function cpuSplit(pid) {
  try {
    clockTicks ??= Number(run("getconf", ["CLK_TCK"]).stdout.trim()) || 100;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    const user = (Number(fields[11]) * 1000) / clockTicks;
    const system = (Number(fields[12]) * 1000) / clockTicks;
    return { user, system, total: user + system };
  } catch {
    return null;
  }
}

/**
 * Time a process's threads spent runnable but waiting for a core, in ms (Linux
 * /proc/<pid>/task/<tid>/schedstat, second field), or NaN: what other work on the machine took.
 */
export function runQueueMs(pid) {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[1]);
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

/** Machine-wide CPU counters (Linux /proc/stat), to tell how busy the machine was meanwhile. */
export function cpuCounters() {
  try {
    const [, ...v] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { idle, total, steal: v[7] ?? 0 };
  } catch {
    return null;
  }
}
/** Share of all cores busy between two cpuCounters() readings, and the steal share. */
export function busyShare(a, b) {
  if (!a || !b || b.total === a.total) return null;
  return { busy: 1 - (b.idle - a.idle) / (b.total - a.total), steal: (b.steal - a.steal) / (b.total - a.total) };
}

/**
 * Waits (bounded) until the machine is nearly idle: other work on a shared machine slows every
 * figure. Returns the busy share last seen (0..1) and how long it waited.
 */
export async function waitQuiet({ maxMs, busyBelow = 0.25 }) {
  const start = Date.now();
  let busy = null;
  for (;;) {
    const a = cpuCounters();
    await sleep(1_000);
    busy = busyShare(a, cpuCounters())?.busy ?? 0;
    if (busy < busyBelow || Date.now() - start >= maxMs) break;
  }
  return { busy, waitedMs: Date.now() - start };
}
