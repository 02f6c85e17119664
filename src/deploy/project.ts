import fs from "node:fs/promises";
import path from "node:path";
import { parse } from "smol-toml";
import { UserError } from "../errors.js";
import { mergeContributions } from "../features/contributions.js";
import { FEATURES, isEnabled } from "../features/index.js";
import type { Feature } from "../features/types.js";
import type { DeployOptions, ProjectOptions } from "../options.js";
import { findProvider, type Provider } from "../providers.js";
import { TABLE, findRecorded, missingRecorded, readRecorded, recordedTable } from "../recorded.js";
import { tomlString } from "../escape.js";
import type { ServiceNeed } from "./services.js";

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
  /** Secrets among `secretNames` the deploy generates when none is set (features' secrets with `generate`). */
  generatedSecretNames: string[];
  /** The secret holding the API keys clients send, when a feature declares one. */
  bearerSecret: string | undefined;
  /** Databases Fly runs for the app (features' provisioning with a `service`), each setting its URL secret. */
  services: ServiceNeed[];
  /** The Dockerfile installs from uv.lock, so the lockfile has to exist. */
  needsUvLock: boolean;
  hasUvLock: boolean;
}

const exists = (file: string) => fs.access(file).then(() => true, () => false);

const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

/**
 * What a project without recorded options can still show: fly.toml's app, region and [env], the
 * Dockerfile's tool, and the feature list an older generator recorded. Only for the hint.
 */
function inferredOptions(config: Record<string, unknown>, dockerfile: string, table: Record<string, unknown> | undefined) {
  const env = (config.env ?? {}) as Record<string, unknown>;
  const provider = text(env.PROVIDER);
  const features = Array.isArray(table?.features) ? Object.fromEntries(table.features.map((id) => [String(id), true])) : undefined;
  return {
    name: text(config.app),
    provider: provider && findProvider(provider) ? provider : undefined,
    model: text(env.MODEL),
    baseUrl: text(env.BASE_URL),
    region: text(config.primary_region),
    pythonTool: /\buv\.lock\b|\buv sync\b/.test(dockerfile) ? ("uv" as const) : ("pip" as const),
    ...(features ? { features } : {}),
  };
}

/**
 * The options the project was created with, from `[tool.create-fly-fastapi]` in its pyproject.toml,
 * each checked by its declaration. Without the table: a one-line error whose hint shows the
 * lines to add, as far as fly.toml and the Dockerfile tell them.
 */
export async function readRecordedOptions(dir: string): Promise<ProjectOptions & DeployOptions> {
  const relative = path.relative(process.cwd(), path.join(dir, "pyproject.toml"));
  const shown = relative.startsWith("..") ? path.join(dir, "pyproject.toml") : relative;
  const pyproject = await fs.readFile(path.join(dir, "pyproject.toml"), "utf8").catch(() => "");
  const table = findRecorded(pyproject);
  if (table && missingRecorded(table).length === 0) return { ...(await readRecorded(table, shown)), directory: dir };
  const config = await fs.readFile(path.join(dir, "fly.toml"), "utf8").then((t) => parse(t) as Record<string, unknown>, () => ({}) as Record<string, unknown>);
  const dockerfile = await fs.readFile(path.join(dir, "Dockerfile"), "utf8").catch(() => "");
  const lines = recordedTable(inferredOptions(config, dockerfile, table)).trim();
  throw new UserError(
    `${shown} does not record the options the project was created with ([tool.${TABLE}]), which deploy reads`,
    `${table ? "replace" : "add"} its [tool.${TABLE}] table with these lines (read from fly.toml and the Dockerfile: check them, and list the features the project has), or re-create the project with its README's command:\n${lines}`,
    "no_recorded_options",
  );
}

/**
 * Checks that `dir` holds what a deploy needs and reads it. Reads only; changes nothing.
 * `features`: the features a project may have (the generator's own unless a test brings its own).
 */
export async function readProject(dir: string, options?: ProjectOptions, features: readonly Feature[] = FEATURES): Promise<DeployProject> {
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
  // Features declare the secrets they need from the options: those the project was created with.
  const known: ProjectOptions = options ?? (await readRecordedOptions(dir));
  const provider = findProvider(known.provider);
  const appName = typeof config.app === "string" && config.app !== "" ? config.app : undefined;
  const primaryRegion = typeof config.primary_region === "string" ? config.primary_region : undefined;
  const needsUvLock = /\buv\.lock\b|\buv sync\b/.test(dockerfile);
  const contributed = mergeContributions(features.filter((f) => isEnabled(f, known)));
  const deploySecrets = contributed.secrets;
  const services = Object.values(contributed.provisioning).flatMap(({ service }) => (service ? [service] : []));
  const featureSecrets = Object.keys(deploySecrets);
  const generators = Object.entries(deploySecrets).filter(([, secret]) => secret.generate);
  // A preset whose key is optional (a self-hosted server may need none) gets it set only when given.
  const providerKey = provider?.apiKeyEnv ?? undefined;
  const required = [provider?.keyRequired ? providerKey : undefined, ...featureSecrets];
  const notInEnv = (names: (string | undefined)[]) => [...new Set(names)].filter((n): n is string => Boolean(n) && !(n! in env));
  const secretNames = notInEnv(required);
  return {
    dir,
    appName,
    primaryRegion,
    provider,
    // A secret must never sit in fly.toml's [env]: one that does is left alone.
    secretNames,
    optionalSecretNames: provider?.keyRequired ? [] : notInEnv([providerKey]),
    generatedSecretNames: generators.map(([name]) => name).filter((name) => secretNames.includes(name)),
    bearerSecret: generators.find(([name, g]) => g.bearer && secretNames.includes(name))?.[0],
    services,
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
