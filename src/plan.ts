import path from "node:path";
import type { TemplateContext } from "./context.js";
import { FEATURES, isEnabled, type Feature } from "./features/index.js";
import { GENERATOR } from "./meta.js";
import { OPTIONS, type ProjectOptions } from "./options.js";
import { findProvider } from "./providers.js";
import { findRegion } from "./regions.js";
import { shellPath, shellWord } from "./escape.js";
import { loadTemplates } from "./templates.js";
import {
  PYTHON_DEPENDENCIES,
  PYTHON_DEV_DEPENDENCIES,
  PYTHON_IMAGE,
  PYTHON_REQUIRES,
  UV_VERSION,
} from "./versions.js";

export interface PlannedFile {
  /** POSIX path relative to the project root. */
  path: string;
  content: string;
}

export interface Plan {
  options: ProjectOptions;
  features: string[];
  files: PlannedFile[];
  /** Commands to run after scaffolding, in order, from the directory the user is in. */
  nextSteps: string[];
  /** The non-interactive command that re-creates this project. */
  command: string;
}

export const PORT = 8080;

/** What the plan needs besides the project options. */
export interface PlanExtras {
  /** Extra Fly regions (`--regions`), written into the project's README. */
  regions?: readonly string[];
}

/**
 * The command line that re-creates the project, every option spelt out. The directory comes
 * last, after `--`, so a name such as `-dash` is not read as an option.
 */
export function commandLine(options: ProjectOptions, directory = options.directory, extras: PlanExtras = {}): string {
  const words = [`npx`, `${GENERATOR.name}@${GENERATOR.version}`];
  for (const decl of OPTIONS) {
    if (decl.key === "directory") continue;
    const value = options[decl.key];
    if (decl.type === "features") {
      for (const choice of decl.choices) words.push(options.features[choice.value] ? `--${choice.value}` : `--no-${choice.value}`);
    } else if (decl.type === "boolean") {
      words.push(value ? `--${decl.flag}` : `--no-${decl.flag}`);
    } else if (value !== "" && !(decl.key === "model" && options.provider === "mock")) {
      // --flag=value: a value starting with "--" would otherwise be read as the next flag.
      words.push(...(String(value).startsWith("-") ? [`--${decl.flag}=${String(value)}`] : [`--${decl.flag}`, String(value)]));
    }
  }
  if (extras.regions?.length) words.push("--regions", extras.regions.join(","));
  words.push("--yes", "--", directory);
  return words.map(shellWord).join(" ");
}

export function enabledFeatures(options: ProjectOptions): Feature[] {
  return FEATURES.filter((f) => isEnabled(f, options));
}

/** PEP 503 normalised name of a requirement such as "uvicorn[standard]==0.54.0". */
const requirementName = (requirement: string) =>
  requirement.split(/[\[=<>!~; ]/, 1)[0]!.toLowerCase().replace(/[-_.]+/g, "-");

/**
 * The distribution name in pyproject.toml: the app name, unless the project
 * would then depend on itself (a project called "openai" cannot install openai).
 */
export function packageNameFor(appName: string, requirements: readonly string[]): string {
  const taken = new Set(requirements.map(requirementName));
  return taken.has(appName) ? `${appName}-app` : appName;
}

export function buildContext(options: ProjectOptions, features: readonly Feature[], extras: PlanExtras = {}): TemplateContext {
  const provider = findProvider(options.provider);
  const region = findRegion(options.region);
  if (!provider || !region) throw new Error("options must be resolved before planning");
  const projectName = path.basename(path.resolve(options.directory));
  const dependencies = [...PYTHON_DEPENDENCIES, ...features.flatMap((f) => f.pythonDependencies ?? [])];
  const devDependencies = [...PYTHON_DEV_DEPENDENCIES, ...features.flatMap((f) => f.pythonDevDependencies ?? [])];
  return {
    projectName,
    appName: options.name,
    packageName: packageNameFor(options.name, [...dependencies, ...devDependencies]),
    provider: {
      id: provider.id,
      label: provider.label,
      apiKeyEnv: provider.apiKeyEnv,
      keysUrl: provider.keysUrl,
      isMock: provider.id === "mock",
    },
    model: options.model,
    baseUrl: options.baseUrl === "" ? null : options.baseUrl,
    region: { code: region.code, city: region.city },
    regions: (extras.regions ?? []).flatMap((code) => {
      const extra = findRegion(code);
      return extra && extra.code !== region.code ? [{ code: extra.code, city: extra.city }] : [];
    }),
    python: {
      tool: options.pythonTool,
      isUv: options.pythonTool === "uv",
      isPip: options.pythonTool === "pip",
      image: PYTHON_IMAGE,
      requires: PYTHON_REQUIRES,
      uvVersion: UV_VERSION,
      dependencies,
      devDependencies,
    },
    features: Object.fromEntries(FEATURES.map((f) => [f.id, features.includes(f)])),
    enabledFeatures: features.filter((f) => f.option).map((f) => f.id),
    routers: features.flatMap((f) => f.routers ?? []),
    setups: features.flatMap((f) => f.setups ?? []),
    publicPaths: features.flatMap((f) => f.publicPaths ?? []).sort(),
    unmeteredPaths: features.flatMap((f) => f.unmeteredPaths ?? []).sort(),
    settings: features.flatMap((f) => f.settings ?? []).map((s) => ({ ...s, env: s.name.toUpperCase() })),
    docs: features.flatMap((f) => f.docs ?? []),
    port: PORT,
    command: commandLine(options, projectName, extras),
    generator: { ...GENERATOR },
  };
}

/** What happened after the files were written, as far as it changes the next steps. */
export interface Outcome {
  /** The dependencies are installed (default: `options.install`; false when the install was skipped or failed). */
  installed?: boolean;
  /** The project was deployed just now. */
  deployed?: boolean;
}

/** Exactly the commands that work next, in order, from the directory the user is in. */
export function nextSteps(options: ProjectOptions, outcome: Outcome = {}): string[] {
  const installed = outcome.installed ?? options.install;
  const cd = `cd ${shellPath(path.relative(process.cwd(), path.resolve(options.directory)) || ".")}`;
  const steps = cd === "cd ." ? [] : [cd];
  if (options.pythonTool === "uv") {
    if (!installed) steps.push("uv sync");
    steps.push("uv run pytest", `uv run fastapi dev app/main.py --port ${PORT}`);
  } else {
    if (!installed) steps.push("python3 -m venv .venv", ".venv/bin/pip install -e '.[dev]'");
    steps.push(".venv/bin/pytest", `.venv/bin/fastapi dev app/main.py --port ${PORT}`);
  }
  if (!outcome.deployed) steps.push(`npx ${GENERATOR.name} deploy`);
  return steps;
}

/** Primary collation weights of the characters paths are made of, in ICU's root order. */
const PATH_ORDER = "_-./0123456789abcdefghijklmnopqrstuvwxyz";
const PATH_CHARS = /^[A-Za-z0-9_./-]*$/;

/**
 * `a.localeCompare(b)` under the root and English collations, for paths of ASCII letters,
 * digits and `_-./`: punctuation before digits before letters, letters case-insensitively,
 * then lower case before upper case. The first localeCompare of a process loads ICU's
 * collation data (~13 ms, as long as the rest of planning); other paths still use it.
 */
export function comparePaths(a: string, b: string): number {
  if (!PATH_CHARS.test(a) || !PATH_CHARS.test(b)) return a.localeCompare(b);
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = PATH_ORDER.indexOf(a[i]!.toLowerCase()) - PATH_ORDER.indexOf(b[i]!.toLowerCase());
    if (difference !== 0) return Math.sign(difference);
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i] === a[i]!.toLowerCase() ? -1 : 1;
  }
  return 0;
}

/** Options in, every file and its content out. Pure: reads only the packaged templates. */
export function planProject(options: ProjectOptions, given: PlanExtras = {}): Plan {
  // Known regions besides the primary one, each once, in the order given.
  const extras: PlanExtras = { regions: [...new Set(given.regions ?? [])].filter((code) => code !== options.region && findRegion(code)) };
  const features = enabledFeatures(options);
  const context = buildContext(options, features, extras);
  const files = new Map<string, PlannedFile>();
  for (const feature of features) {
    for (const template of loadTemplates(feature.id)) {
      if (files.has(template.path)) {
        throw new Error(`templates/${feature.id}/${template.path} is written by another feature too`);
      }
      let content: string;
      try {
        content = template.render(context);
      } catch (error) {
        throw new Error(`templates/${feature.id}/${template.path}: ${(error as Error).message}`);
      }
      files.set(template.path, { path: template.path, content });
    }
    for (const file of feature.files?.(context) ?? []) {
      if (files.has(file.path)) throw new Error(`${file.path} of feature ${feature.id} is written by another feature too`);
      files.set(file.path, { path: file.path, content: file.content });
    }
  }
  return {
    options,
    features: features.map((f) => f.id),
    files: [...files.values()].sort((a, b) => comparePaths(a.path, b.path)),
    nextSteps: nextSteps(options),
    command: commandLine(options, options.directory, extras),
  };
}
