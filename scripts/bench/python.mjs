// The generated project: generate, install with uv, serve with uvicorn on 127.0.0.1.
import fs from "node:fs";
import path from "node:path";
import { BENCH_CACHE, CLI, REPO_ROOT, freePort, log, must, run, startProcess, waitReady } from "./util.mjs";

const UV_VENV = path.join(BENCH_CACHE, "uv");
const PROJECTS = path.join(BENCH_CACHE, "projects");
export const BARE_APP_DIR = path.join(REPO_ROOT, "scripts", "bench");

/** uv pinned to the version generated projects pin (src/versions.ts), from PyPI into .cache/bench/uv. */
export function ensureUv() {
  const versions = fs.readFileSync(path.join(REPO_ROOT, "src", "versions.ts"), "utf8");
  const version = /UV_VERSION\s*=\s*"([^"]+)"/.exec(versions)?.[1];
  if (!version) throw new Error("UV_VERSION not found in src/versions.ts");
  const uv = path.join(UV_VENV, "bin", "uv");
  const marker = path.join(UV_VENV, "installed.txt");
  if (fs.existsSync(uv) && fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === version) return uv;
  log(`installing uv==${version} into .cache/bench/uv`);
  fs.rmSync(UV_VENV, { recursive: true, force: true });
  must("python3", ["-m", "venv", UV_VENV], { timeoutMs: 120_000 });
  must(path.join(UV_VENV, "bin", "pip"), ["install", "--quiet", `uv==${version}`], { timeoutMs: 300_000 });
  fs.writeFileSync(marker, version);
  return uv;
}

/** Scaffolds a project with our CLI into .cache/bench/projects/<name> and installs it with `uv sync`. */
export function prepareProject(name, extraArgs = []) {
  const uv = ensureUv();
  fs.mkdirSync(PROJECTS, { recursive: true });
  const dir = path.join(PROJECTS, name);
  fs.rmSync(dir, { recursive: true, force: true });
  const env = { ...process.env };
  delete env.CI;
  must(process.execPath, [CLI, dir, "--yes", "--no-install", "--no-git", ...extraArgs], { env, timeoutMs: 60_000 });
  log(`uv sync in .cache/bench/projects/${name}`);
  const synced = must(uv, ["sync", "--quiet"], {
    cwd: dir,
    env: { ...env, UV_PYTHON_DOWNLOADS: "never", UV_NO_PROGRESS: "1" },
    timeoutMs: 420_000,
  });
  const versions = must(path.join(dir, ".venv", "bin", "python"), [
    "-c",
    "import importlib.metadata as m, sys; print(sys.version.split()[0], *(f'{p}=={m.version(p)}' for p in ('fastapi','starlette','uvicorn','openai','httptools','uvloop') if __import__('importlib.util').util.find_spec(p.replace('-','_'))))",
  ]).stdout.trim();
  // The openai SDK's default connection pool size: one connection per open upstream stream.
  const pool = run(path.join(dir, ".venv", "bin", "python"), ["-c", "import openai._constants as c; print(c.DEFAULT_CONNECTION_LIMITS.max_connections)"]);
  const sdkMaxConnections = Number(pool.stdout.trim()) || null;
  return { dir, syncMs: synced.ms, versions, sdkMaxConnections };
}

/**
 * The uvicorn flags production uses, read from the generated Dockerfile's CMD when it has one
 * (minus host/port, which the benchmark sets); one worker in every case.
 */
export function productionUvicornFlags(dir) {
  const flags = [];
  try {
    const dockerfile = fs.readFileSync(path.join(dir, "Dockerfile"), "utf8");
    const cmd = /^\s*(?:CMD|ENTRYPOINT)\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
    const words = cmd ? JSON.parse(cmd) : [];
    const at = words.findIndex((w) => w.endsWith("uvicorn"));
    if (at >= 0) {
      const rest = words.slice(at + 1);
      for (let i = 0; i < rest.length; i++) {
        const w = rest[i];
        if (!w.startsWith("--")) continue; // the app path
        if (["--host", "--port", "--workers"].includes(w.split("=")[0])) {
          if (!w.includes("=")) i++;
          continue;
        }
        flags.push(w);
        if (!w.includes("=") && rest[i + 1] && !rest[i + 1].startsWith("--") && !/^[\w.]+:[\w]+$/.test(rest[i + 1])) flags.push(rest[++i]);
      }
    }
  } catch {}
  return flags;
}

/**
 * Serves `appPath` ("app.main:app", or "bare_asgi:app" with appDir) with the project's uvicorn
 * on 127.0.0.1, one worker, and waits for `readyPath`.
 */
export async function serve(dir, { appPath = "app.main:app", appDir, env = {}, flags = [], readyPath = "/healthz", cpus } = {}) {
  const port = await freePort();
  const args = [appPath, "--host", "127.0.0.1", "--port", String(port), "--workers", "1", ...flags];
  if (appDir) args.push("--app-dir", appDir);
  const proc = startProcess(path.join(dir, ".venv", "bin", "uvicorn"), args, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8", ...env },
    cpus,
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(`${origin}${readyPath}`, proc, 30_000);
  return { origin, proc, pid: proc.pid, args, stop: () => proc.stop() };
}
