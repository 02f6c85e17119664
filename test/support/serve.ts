import { execa, type ResultPromise } from "execa";
import net from "node:net";
import path from "node:path";

/**
 * What a generated project's processes see: the machine's basics and nothing of the
 * test runner's own environment (vitest sets BASE_URL, MODE and friends).
 */
export function projectEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keep = ["PATH", "HOME", "LANG", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "PIP_CERT", "PIP_FIND_LINKS", "PIP_INDEX_URL", "UV_INDEX_URL"];
  const env: Record<string, string> = {};
  for (const name of keep) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  return { ...env, ...extra };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunningApp {
  origin: string;
  process: ResultPromise;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Serves a generated project with its own uvicorn on 127.0.0.1 and waits until
 * /healthz answers (polling, bounded), so tests start against a ready server.
 */
export async function serveProject(dir: string, env: Record<string, string>, readyWithinMs = 30_000): Promise<RunningApp> {
  const port = await freePort();
  let output = "";
  const child = execa(path.join(dir, ".venv/bin/uvicorn"), ["app.main:app", "--host", "127.0.0.1", "--port", String(port)], {
    cwd: dir,
    env: projectEnv(env),
    extendEnv: false,
    reject: false,
    all: true,
    buffer: false,
  });
  child.all?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`uvicorn exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${origin}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`uvicorn did not answer /healthz within ${readyWithinMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    origin,
    process: child,
    output: () => output,
    async stop() {
      child.kill("SIGTERM");
      await child;
    },
  };
}
