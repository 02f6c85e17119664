// (b) of the side-by-side: the LiteLLM proxy, from PyPI in its own venv under .cache/bench/litellm,
// configured for the fake upstream as one OpenAI-compatible model, one worker on 127.0.0.1.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ensureUv } from "./python.mjs";
import { BENCH_CACHE, freePort, log, must, startProcess, waitReady } from "./util.mjs";

/** Pinned so figures stay comparable. (1.106.x is the newest whose `proxy` extra installs from PyPI alone.) */
export const LITELLM_VERSION = "1.106.12";
const VENV = path.join(BENCH_CACHE, "litellm");
const MODEL = "bench-model";

/** Installs litellm[proxy] once (re-done when the pin changes); returns its CLI. */
export function ensureLitellm() {
  const cli = path.join(VENV, "bin", "litellm");
  const marker = path.join(VENV, "installed.txt");
  if (fs.existsSync(cli) && fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === LITELLM_VERSION) return cli;
  const uv = ensureUv();
  log(`installing litellm[proxy]==${LITELLM_VERSION} into .cache/bench/litellm`);
  fs.rmSync(VENV, { recursive: true, force: true });
  const env = { ...process.env, UV_PYTHON_DOWNLOADS: "never", UV_NO_PROGRESS: "1" };
  must(uv, ["venv", "--quiet", "--python", "python3", VENV], { env, timeoutMs: 120_000 });
  must(uv, ["pip", "install", "--quiet", "--python", path.join(VENV, "bin", "python"), `litellm[proxy]==${LITELLM_VERSION}`], { env, timeoutMs: 420_000 });
  fs.writeFileSync(marker, LITELLM_VERSION);
  return cli;
}

/**
 * Starts the proxy in front of `upstreamBaseUrl` and waits for its liveness endpoint (its start
 * takes tens of seconds). The master key is made for this run and passed in the environment;
 * requests send it as their bearer token.
 */
export async function startLitellm(upstreamBaseUrl, { cpus } = {}) {
  const cli = ensureLitellm();
  const port = await freePort();
  const config = path.join(VENV, "bench-config.yaml");
  fs.writeFileSync(
    config,
    [
      "model_list:",
      `  - model_name: ${MODEL}`,
      "    litellm_params:",
      `      model: openai/${MODEL}`,
      `      api_base: ${upstreamBaseUrl}`,
      "      api_key: sk-bench-not-a-key",
      "litellm_settings:",
      "  telemetry: false",
      "",
    ].join("\n"),
  );
  const masterKey = `sk-${crypto.randomBytes(24).toString("hex")}`;
  const started = performance.now();
  const proc = startProcess(cli, ["--config", config, "--host", "127.0.0.1", "--port", String(port), "--num_workers", "1"], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: "C.UTF-8",
      LITELLM_MASTER_KEY: masterKey,
      // The model price list ships in the package; without this it is fetched from the internet.
      LITELLM_LOCAL_MODEL_COST_MAP: "True",
      LITELLM_TELEMETRY: "False",
    },
    cpus,
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(`${origin}/health/liveliness`, proc, 240_000);
  const startMs = performance.now() - started;
  log(`LiteLLM ${LITELLM_VERSION} ready in ${(startMs / 1000).toFixed(1)} s`);
  return { origin, pid: proc.pid, startMs, version: LITELLM_VERSION, authorization: `Bearer ${masterKey}`, stop: () => proc.stop() };
}
