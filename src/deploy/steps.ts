import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { UserError } from "../errors.js";
import { findDeploySecret } from "../features/index.js";
import type { Feature } from "../features/types.js";
import type { ProjectOptions } from "../options.js";
import { DeployError, type StepName } from "./errors.js";
import { findFlyctl, type Env, type Flyctl, type FlyctlResult } from "./flyctl.js";
import { readProject, type DeployProject } from "./project.js";
import { secretLine, secretsInput } from "./secrets.js";
import { checkSecretValue, type DeployUi } from "./ui.js";

export { DeployError, type StepName };

export interface StepContext {
  fly: Flyctl;
  /** The command that runs the deploy again, continuing where it stopped. */
  rerun: string;
}

export interface SecretValue {
  name: string;
  /** Undefined when the app already has the secret and no new value was given. */
  value?: string;
  /** "provisioned": the URL of a database this deploy created or found (src/deploy/services.ts). */
  source: "environment" | "prompt" | "already set" | "generated" | "provisioned";
}

export const INSTALL_FLYCTL = "curl -L https://fly.io/install.sh | sh";
/** In flyctl's order: FLY_ACCESS_TOKEN wins when both are set (internal/config/config.go). */
const TOKEN_VARIABLES = ["FLY_ACCESS_TOKEN", "FLY_API_TOKEN"];

function failed(step: StepName, what: string, result: FlyctlResult, hint: string): DeployError {
  return new DeployError(step, `${what} (flyctl exited with ${result.exitCode})`, hint, result.errorLines);
}

function parseJson<T>(step: StepName, command: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new DeployError(step, `\`flyctl ${command}\` printed something other than JSON`, `update flyctl: ${INSTALL_FLYCTL}`, text.split("\n").slice(0, 5));
  }
}

// ── 1. Preflight: reads only ──────────────────────────────────────────────

export async function checkFlyctl(dir: string, env: Env): Promise<Flyctl> {
  const fly = await findFlyctl(dir, env);
  if (!fly) {
    throw new DeployError("preflight", "flyctl is not installed: neither `flyctl` nor `fly` is on PATH", `install it: ${INSTALL_FLYCTL}`);
  }
  return fly;
}

/**
 * The account deploys run as: the email of `auth whoami`, with the token variable flyctl uses
 * when one is set. flyctl checks a token only when it first calls the API, so whoami is asked
 * either way: an expired or revoked token fails here, before anything changed.
 */
export async function checkLogin(fly: Flyctl, env: Env): Promise<string> {
  const token = TOKEN_VARIABLES.find((name) => env[name]);
  const result = await fly.run(["auth", "whoami", "--json"]);
  if (!result.ok) {
    if (token) {
      const other = TOKEN_VARIABLES.find((name) => name !== token && env[name]);
      const note = other ? ` (flyctl uses it over ${other})` : "";
      throw failed("preflight", `Fly.io refused the token in ${token}${note}`, result, `make a new one (fly tokens create deploy) and set ${token} to it`);
    }
    throw failed("preflight", "not logged in to Fly.io", result, "log in: fly auth login (in CI, set FLY_API_TOKEN)");
  }
  const email = parseJson<{ email?: string }>("preflight", "auth whoami --json", result.stdout).email ?? "unknown account";
  return token ? `${email} (the token in ${token})` : email;
}

export async function checkProject(dir: string, options?: ProjectOptions, features?: readonly Feature[]): Promise<DeployProject> {
  try {
    return await readProject(dir, options, features);
  } catch (error) {
    if (error instanceof UserError) throw new DeployError("preflight", error.message, error.hint ?? "");
    throw error;
  }
}

interface ListedApp {
  Name?: string;
  name?: string;
  Organization?: { Slug?: string; slug?: string } | null;
  organization?: { slug?: string } | null;
}

/** The app when it exists and belongs to the user (`apps list` shows only the user's apps). */
export async function findOwnApp(fly: Flyctl, name: string): Promise<{ org: string } | undefined> {
  const result = await fly.run(["apps", "list", "--json"]);
  if (!result.ok) throw failed("preflight", "could not list your Fly apps", result, "check the login: fly auth whoami");
  const apps = parseJson<ListedApp[] | null>("preflight", "apps list --json", result.stdout) ?? [];
  const app = apps.find((a) => (a.Name ?? a.name) === name);
  if (!app) return undefined;
  return { org: app.Organization?.Slug ?? app.Organization?.slug ?? app.organization?.slug ?? "unknown" };
}

export async function secretsAlreadySet(fly: Flyctl, app: string): Promise<Set<string>> {
  const result = await fly.run(["secrets", "list", "--app", app, "--json"]);
  if (!result.ok) throw failed("preflight", `could not list the secrets of ${app}`, result, "check the login: fly auth whoami");
  // Lowercase keys: {"name", "digest", "status"} (internal/command/secrets/list.go).
  const listed = parseJson<{ name?: string }[] | null>("preflight", "secrets list --json", result.stdout) ?? [];
  return new Set(listed.map((s) => s.name ?? ""));
}

/** A uv project's Dockerfile installs from uv.lock: make sure it is there (asking before `uv lock` writes it). */
export async function ensureUvLock(project: DeployProject, ui: DeployUi, yes: boolean, env: Env): Promise<string | undefined> {
  if (!project.needsUvLock || project.hasUvLock) return undefined;
  const uv = await execa("uv", ["--version"], { cwd: project.dir, env, extendEnv: false, reject: false, stdin: "ignore" });
  if (uv.exitCode !== 0) {
    throw new DeployError("preflight", "uv.lock is missing (the Dockerfile installs from it) and uv is not installed", "install uv (https://docs.astral.sh/uv/), then run: uv lock");
  }
  const consent = yes || (ui.interactive && (await ui.confirm("uv.lock is missing; the Dockerfile installs from it. Run `uv lock` now?")));
  if (!consent) throw new DeployError("preflight", "uv.lock is missing; the Dockerfile installs from it", "run in the project: uv lock (or pass --yes to let deploy run it)");
  const lock = await execa("uv", ["lock"], { cwd: project.dir, env, extendEnv: false, reject: false, stdin: "ignore", all: true });
  if (lock.exitCode !== 0) {
    throw new DeployError("preflight", "`uv lock` failed", "fix pyproject.toml, then run: uv lock", (lock.all ?? "").split("\n").filter(Boolean).slice(-10));
  }
  return "ran uv lock: uv.lock written";
}

/**
 * The value of every secret the app needs: from the environment, else kept when the app already
 * has it, else asked for (masked) in a terminal. Without one, a clear error before anything changed.
 * Optional secrets are set only when given.
 */
export async function collectSecrets(project: DeployProject, alreadySet: Set<string>, ui: DeployUi, env: Env): Promise<SecretValue[]> {
  const values: SecretValue[] = [];
  const where = project.provider?.keysUrl ? ` (get one at ${project.provider.keysUrl})` : "";
  const wanted = [
    ...project.secretNames.map((name) => ({ name, optional: false })),
    ...project.optionalSecretNames.map((name) => ({ name, optional: true })),
  ];
  for (const { name, optional } of wanted) {
    const fromEnv = env[name];
    if (fromEnv) {
      const problem = checkSecretValue(fromEnv);
      if (problem) throw new DeployError("preflight", `${name} in the environment is not usable: ${problem}`, `export ${name}=<your key> on one line`);
      values.push({ name, value: fromEnv, source: "environment" });
    } else if (alreadySet.has(name)) {
      values.push({ name, source: "already set" });
    } else if (project.generatedSecretNames.includes(name)) {
      values.push({ name, value: generateSecret(name), source: "generated" });
    } else if (ui.interactive) {
      const label = `${name} for ${project.provider?.label ?? "the app"}${where}${optional ? " (leave empty if the server needs no key)" : ""}`;
      const value = await ui.askSecret(name, label, optional);
      if (value) values.push({ name, value, source: "prompt" });
    } else if (!optional) {
      throw new DeployError(
        "preflight",
        `${name} is not set: the app needs it${project.provider ? ` to call ${project.provider.label}` : ""}, and without a terminal it cannot be asked for`,
        `export ${name}=<your key>${where}, then run again`,
      );
    }
  }
  // Refuses, before anything changed, a value flyctl could not store as given.
  for (const { name, value } of values) if (value !== undefined) secretLine(name, value);
  return values;
}

/** A fresh value for a secret a feature generates (its `secrets` contribution with `generate`). */
export function generateSecret(name: string): string {
  const generator = findDeploySecret(name);
  if (!generator?.generate) throw new Error(`no feature generates ${name}`);
  return generator.generate();
}

// ── 2. The app ────────────────────────────────────────────────────────────

/** Suggestions for a taken name: the name with a short random suffix. */
export function suggestNames(name: string, count = 2): string[] {
  return Array.from({ length: count }, () => `${name.slice(0, 58).replace(/-+$/, "")}-${randomBytes(2).toString("hex")}`);
}

export async function createApp(ctx: StepContext, name: string, org: string): Promise<"created" | "taken"> {
  const result = await ctx.fly.run(["apps", "create", name, "--org", org]);
  if (result.ok) return "created";
  // Two answers mean the name is someone else's: the API's validation, and the database's
  // unique index when two creations race (status name_taken).
  if (result.errorLines.some((line) => /has already been taken|uniqueness constraint|name_taken/i.test(line))) return "taken";
  throw failed("app", `could not create the app ${name} in org ${org}`, result, `fix the cause above, then run again: ${ctx.rerun}`);
}

// ── 3. Secrets: on stdin only ─────────────────────────────────────────────

/** Stages the secrets with `secrets import --stage` (the deploy applies them); values go to stdin only. */
export async function importSecrets(ctx: StepContext, app: string, secrets: SecretValue[]): Promise<string[]> {
  const toSet = secrets.filter((s): s is SecretValue & { value: string } => s.value !== undefined);
  if (toSet.length === 0) return [];
  const input = secretsInput(toSet);
  const result = await ctx.fly.run(["secrets", "import", "--app", app, "--stage"], { input });
  if (!result.ok) throw failed("secrets", `could not set the secrets ${toSet.map((s) => s.name).join(", ")}`, result, `fix the cause above, then run again: ${ctx.rerun}`);
  return toSet.map((s) => s.name);
}

// ── 4. Deploy and regions ─────────────────────────────────────────────────

/**
 * Builds on Fly's remote builder and waits for the release; flyctl's lines go to `onLine`.
 * `ha`: the first deploy makes 2 Machines in the primary region (flyctl's default), else 1.
 */
export async function deployApp(ctx: StepContext, app: string, ha: boolean, onLine: (line: string) => void): Promise<void> {
  const result = await ctx.fly.run(["deploy", "--remote-only", `--ha=${ha}`, "--app", app, "--config", "fly.toml", "--yes"], { onLine });
  if (!result.ok) throw failed("deploy", "flyctl deploy failed", result, `fix the cause above, then run again: ${ctx.rerun}`);
}

/** One machine in `region` (one region per call, so the count is per region whatever flyctl's default). */
export async function scaleRegion(ctx: StepContext, app: string, region: string): Promise<void> {
  const result = await ctx.fly.run(["scale", "count", "1", "--region", region, "--app", app, "--yes"]);
  if (!result.ok) {
    throw failed("regions", `could not start a machine in ${region}`, result, `the app is live in its primary region; fix the cause above, then run again: ${ctx.rerun}`);
  }
}

// ── 5. Where the app answers ─────────────────────────────────────────────

/** Where the app answers, and its Machines by region (what the deploy made, as Fly reports it). */
export async function appStatus(ctx: StepContext, app: string): Promise<{ hostname: string; machines: Record<string, number> }> {
  const result = await ctx.fly.run(["status", "--app", app, "--json"]);
  if (!result.ok) throw failed("smoke", `could not read the status of ${app}`, result, `see: fly status --app ${app}`);
  const status = parseJson<{ Hostname?: string; Machines?: { region?: string }[] | null }>("smoke", "status --json", result.stdout);
  const machines: Record<string, number> = {};
  for (const { region } of status.Machines ?? []) if (region) machines[region] = (machines[region] ?? 0) + 1;
  return { hostname: status.Hostname || `${app}.fly.dev`, machines };
}
