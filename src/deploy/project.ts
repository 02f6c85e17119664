import fs from "node:fs/promises";
import path from "node:path";
import { parse } from "smol-toml";
import { UserError } from "../errors.js";
import { FEATURES, isEnabled } from "../features/index.js";
import type { ProjectOptions } from "../options.js";
import { PROVIDERS, findProvider, type Provider } from "../providers.js";
import { tomlString } from "../escape.js";

/** What a deploy needs to know about a generated project, read from its files. */
export interface DeployProject {
  dir: string;
  /** `app` in fly.toml. */
  appName: string | undefined;
  primaryRegion: string | undefined;
  /** The inference provider, when the project names one. */
  provider: Provider | undefined;
  /** Environment variables the app needs that must be Fly secrets (never in fly.toml). */
  secretNames: string[];
  /** Secrets the app uses when set (the key of a `custom` endpoint, which may need none). */
  optionalSecretNames: string[];
  /** Secrets among `secretNames` the deploy generates when none is set (features' `generatedSecrets`). */
  generatedSecretNames: string[];
  /** The secret holding the API keys clients send, when a feature declares one. */
  bearerSecret: string | undefined;
  /** The Dockerfile installs from uv.lock, so the lockfile has to exist. */
  needsUvLock: boolean;
  hasUvLock: boolean;
}

const exists = (file: string) => fs.access(file).then(() => true, () => false);

/** Reads `NAME=…` lines (not comments) of a dotenv file. */
function dotenvNames(text: string): string[] {
  return text
    .split("\n")
    .map((line) => /^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/**
 * The provider of the project: `options` when the project was just created; otherwise a
 * `*PROVIDER*` variable in fly.toml's [env], else the provider whose key .env.example names.
 */
function detectProvider(env: Record<string, unknown>, dotenv: string[], options?: ProjectOptions): Provider | undefined {
  if (options) return findProvider(options.provider);
  for (const [name, value] of Object.entries(env)) {
    if (/PROVIDER/i.test(name) && typeof value === "string" && findProvider(value)) return findProvider(value);
  }
  return PROVIDERS.find((p) => p.apiKeyEnv !== null && dotenv.includes(p.apiKeyEnv));
}

/** The optional features the project was generated with, from `[tool.create-fly-fastapi]` in pyproject.toml. */
async function recordedFeatures(dir: string): Promise<Record<string, boolean>> {
  try {
    const pyproject = parse(await fs.readFile(path.join(dir, "pyproject.toml"), "utf8")) as {
      tool?: { "create-fly-fastapi"?: { features?: unknown } };
    };
    const list = pyproject.tool?.["create-fly-fastapi"]?.features;
    return Array.isArray(list) ? Object.fromEntries(list.map((id) => [String(id), true])) : {};
  } catch {
    return {};
  }
}

/** Checks that `dir` holds what a deploy needs and reads it. Reads only; changes nothing. */
export async function readProject(dir: string, options?: ProjectOptions): Promise<DeployProject> {
  const shown = path.relative(process.cwd(), dir) || ".";
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new UserError(`${shown} is not a directory`, "pass the project directory: create-fly-fastapi deploy <directory>");
  }
  const flyToml = path.join(dir, "fly.toml");
  if (!(await exists(flyToml))) {
    throw new UserError(
      `${shown} has no fly.toml, so it is not a project to deploy`,
      `pass the project directory (create-fly-fastapi deploy <directory>), or restore the file: git checkout -- fly.toml`,
    );
  }
  let config: Record<string, unknown>;
  try {
    config = parse(await fs.readFile(flyToml, "utf8"));
  } catch (error) {
    throw new UserError(`fly.toml is not valid TOML: ${(error as Error).message.split("\n")[0]}`, "fix fly.toml, or restore it: git checkout -- fly.toml");
  }
  const dockerfile = await fs.readFile(path.join(dir, "Dockerfile"), "utf8").catch(() => undefined);
  if (dockerfile === undefined) {
    throw new UserError(`${shown} has no Dockerfile; the remote builder needs one`, "restore it: git checkout -- Dockerfile");
  }
  const env = (config.env ?? {}) as Record<string, unknown>;
  const dotenv = dotenvNames(await fs.readFile(path.join(dir, ".env.example"), "utf8").catch(() => ""));
  const provider = detectProvider(env, dotenv, options);
  const appName = typeof config.app === "string" && config.app !== "" ? config.app : undefined;
  const primaryRegion = typeof config.primary_region === "string" ? config.primary_region : undefined;
  const needsUvLock = /\buv\.lock\b|\buv sync\b/.test(dockerfile);
  // Features declare the secrets they need from the options; for an existing project these are
  // read back from its files as far as they show there.
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  const known: ProjectOptions = options ?? {
    directory: dir,
    name: appName ?? "",
    provider: provider?.id ?? "mock",
    model: text(env.MODEL),
    baseUrl: text(env.BASE_URL),
    region: primaryRegion ?? "",
    pythonTool: needsUvLock ? "uv" : "pip",
    git: false,
    install: false,
    features: await recordedFeatures(dir),
  };
  const enabled = FEATURES.filter((f) => isEnabled(f, known));
  const featureSecrets = enabled.flatMap((f) => f.secrets?.(known) ?? []);
  const generators = enabled.flatMap((f) => Object.entries(f.generatedSecrets ?? {}));
  // The `custom` preset's key is optional: a self-hosted server may need none.
  const providerKey = provider?.apiKeyEnv ?? undefined;
  const required = [provider?.id === "custom" ? undefined : providerKey, ...featureSecrets];
  const notInEnv = (names: (string | undefined)[]) => [...new Set(names)].filter((n): n is string => Boolean(n) && !(n! in env));
  const secretNames = notInEnv(required);
  return {
    dir,
    appName,
    primaryRegion,
    provider,
    // A secret must never sit in fly.toml's [env]: one that does is left alone.
    secretNames,
    optionalSecretNames: provider?.id === "custom" ? notInEnv([providerKey]) : [],
    generatedSecretNames: generators.map(([name]) => name).filter((name) => secretNames.includes(name)),
    bearerSecret: generators.find(([name, g]) => g.bearer && secretNames.includes(name))?.[0],
    needsUvLock,
    hasUvLock: await exists(path.join(dir, "uv.lock")),
  };
}

/** Sets `app = "NAME"` in fly.toml, keeping every other line as it is. */
export async function writeAppName(dir: string, name: string): Promise<void> {
  const file = path.join(dir, "fly.toml");
  const text = await fs.readFile(file, "utf8");
  // Only the top level, before the first [table]: [processes] may have an `app` key too.
  const tables = text.search(/^\s*\[/m);
  const [top, rest] = tables === -1 ? [text, ""] : [text.slice(0, tables), text.slice(tables)];
  const line = /^(\s*app\s*=\s*)(?:"[^"\n]*"|'[^'\n]*')/m;
  const next = line.test(top) ? top.replace(line, (_, start: string) => `${start}${tomlString(name)}`) + rest : `app = ${tomlString(name)}\n${text}`;
  if ((parse(next) as { app?: unknown }).app !== name) throw new Error("could not write the app name into fly.toml");
  await fs.writeFile(file, next);
}
