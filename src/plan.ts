import path from "node:path";
import { stringify as toToml } from "smol-toml";
import type { TemplateContext } from "./context.js";
import { mergeContributions, requirementName, type MergedContributions } from "./features/contributions.js";
import { FEATURES, isEnabled, type Feature } from "./features/index.js";
import { orderFeatures } from "./features/relations.js";
import type { DockerfileAnchor, ProvisioningStep, SchemaField, SchemaModel } from "./features/types.js";
import { GENERATOR, PORT } from "./meta.js";
import { PROJECT_OPTIONS, optionFor, type ProjectOptions } from "./options.js";
import { INFERENCE_KEY_ENV, PROVIDERS, findProvider, type Provider } from "./providers.js";
import { recordedTable } from "./recorded.js";
import { findRegion } from "./regions.js";
import { shellPath, shellWord } from "./escape.js";
import { loadTemplates } from "./templates.js";
import { PYTHON_IMAGE, PYTHON_REQUIRES, UV_VERSION } from "./versions.js";

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
  /** What the deploy of this project does besides `fly deploy`, from the features' contributions. */
  deploy: {
    provisioning: ProvisioningStep[];
    /** Secrets the deploy sets on Fly (the provider's key aside). */
    secrets: string[];
  };
}

export { PORT };

/** What the plan needs besides the project options. */
export interface PlanExtras {
  /** Extra Fly regions (`--regions`), written into the project's README. */
  regions?: readonly string[];
  /** The features to choose from (default: FEATURES); the options enable the optional ones. */
  features?: readonly Feature[];
  /** Fly organization of the deploy (`--org`), recorded with the options. */
  org?: string;
}

/**
 * The command line that re-creates the project, every recorded option spelt out. The directory
 * comes last, after `--`, so a name such as `-dash` is not read as an option.
 */
export function commandLine(options: ProjectOptions, directory = options.directory, extras: PlanExtras = {}): string {
  const words = [`npx`, `${GENERATOR.name}@${GENERATOR.version}`];
  for (const decl of PROJECT_OPTIONS) {
    if (decl.key === "directory") continue;
    const value = decl.group ? options[decl.group][decl.key] : options[decl.key as keyof ProjectOptions];
    if (decl.type === "boolean") {
      words.push(value ? `--${decl.flag}` : `--no-${decl.flag}`);
    } else if (value !== "" && !(decl.key === "model" && findProvider(options.provider)?.offline)) {
      // --flag=value: a value starting with "--" would otherwise be read as the next flag.
      words.push(...(String(value).startsWith("-") ? [`--${decl.flag}=${String(value)}`] : [`--${decl.flag}`, String(value)]));
    }
  }
  if (extras.org && extras.org !== optionFor("org").default({})) words.push("--org", extras.org);
  if (extras.regions?.length) words.push("--regions", extras.regions.join(","));
  words.push("--yes", "--", directory);
  return words.map(shellWord).join(" ");
}

/** The features the options enable, checked against each other and ordered by their relations. */
export function enabledFeatures(options: ProjectOptions, catalog: readonly Feature[] = FEATURES): Feature[] {
  return orderFeatures(catalog.filter((f) => isEnabled(f, options)), catalog);
}

/**
 * The distribution name in pyproject.toml: the app name, unless the project
 * would then depend on itself (a project called "openai" cannot install openai).
 */
export function packageNameFor(appName: string, requirements: readonly string[]): string {
  const taken = new Set(requirements.map(requirementName));
  return taken.has(appName) ? `${appName}-app` : appName;
}

const DOCKERFILE_ANCHORS: readonly DockerfileAnchor[] = ["builder", "runtime", "final"];

/** Lines of a comment in the style of fly.toml and the Dockerfile: `# ` before each. */
const commentLines = (text: string | undefined) => (text === undefined ? [] : text.split("\n").map((line) => `# ${line}`));

const SCHEMA_MODELS: readonly SchemaModel[] = ["ChatRequest", "ChatResponse", "Done"];

/** `schemaFields` keyed "Model.field", grouped by model for schemas.py. */
function schemaFieldsByModel(fields: MergedContributions["schemaFields"]): Record<SchemaModel, SchemaField[]> {
  const byModel = Object.fromEntries(SCHEMA_MODELS.map((model) => [model, [] as SchemaField[]])) as Record<SchemaModel, SchemaField[]>;
  for (const [key, field] of Object.entries(fields)) {
    const [model, name, ...rest] = key.split(".");
    if (!SCHEMA_MODELS.includes(model as SchemaModel) || !name || rest.length > 0) {
      throw new Error(`schemaFields "${key}": a key is Model.field, with Model one of ${SCHEMA_MODELS.join(", ")}`);
    }
    byModel[model as SchemaModel].push({ model: model as SchemaModel, name, ...field });
  }
  return byModel;
}

/** The modules of `module.NAME` references, sorted, for a template's imports. */
const modulesOf = (names: readonly string[]) => [...new Set(names.map((name) => name.split(".")[0]!))].sort();

/** A name of a module of app/ (`auth.api_key`), or of a library's, written in full (`fastapi.exceptions.RequestValidationError`). */
const isAppName = (name: string) => name.split(".").length === 2;

/**
 * app/api.py's imports from libraries: FastAPI's own, and each exception a handler is given for by its
 * full name; sorted by module as ruff's isort sorts them.
 */
function libraryImports(exceptions: readonly string[]) {
  const names = new Map<string, Set<string>>([["fastapi", new Set(["APIRouter", "Request", "Response"])]]);
  for (const exception of exceptions.filter((name) => !isAppName(name))) {
    const module = exception.slice(0, exception.lastIndexOf("."));
    names.set(module, (names.get(module) ?? new Set()).add(exception.slice(module.length + 1)));
  }
  return [...names].sort(([a], [b]) => (a < b ? -1 : 1)).map(([module, set]) => ({ module, names: [...set].sort().join(", ") }));
}

/** The contributions as the shared templates read them. */
function contributionContext(merged: MergedContributions) {
  const dockerfile = Object.fromEntries(DOCKERFILE_ANCHORS.map((anchor) => [anchor, [] as string[]])) as Record<DockerfileAnchor, string[]>;
  for (const addition of Object.values(merged.dockerfile)) {
    dockerfile[addition.at].push([...commentLines(addition.comment), addition.instructions].join("\n"));
  }
  const secrets = Object.entries(merged.secrets);
  return {
    routers: merged.routers,
    middleware: [...merged.middleware].reverse(),
    lifespans: Object.entries(merged.lifespans).map(([module, { state }]) => ({ module, state: state ?? null })),
    settingChecks: merged.settingChecks,
    lifespanModules: [...new Set([...Object.keys(merged.lifespans), ...modulesOf(merged.settingChecks)])].sort(),
    api: {
      dependencies: merged.apiDependencies,
      responses: Object.entries(merged.apiResponses).map(([status, value]) => ({ status, value })),
      exceptionHandlers: Object.entries(merged.exceptionHandlers).map(([exception, handler]) => ({
        exception: isAppName(exception) ? exception : exception.slice(exception.lastIndexOf(".") + 1),
        handler,
      })),
      libraryImports: libraryImports(Object.keys(merged.exceptionHandlers)),
      modules: modulesOf([
        ...merged.apiDependencies,
        ...Object.values(merged.apiResponses),
        ...Object.entries(merged.exceptionHandlers).flat().filter(isAppName),
      ]),
    },
    publicPaths: [...merged.publicPaths].sort(),
    unmeteredPaths: [...merged.unmeteredPaths].sort(),
    settings: Object.entries(merged.settings).map(([name, setting]) => ({ name, ...setting, env: name.toUpperCase() })),
    docs: Object.entries(merged.docs).map(([file, title]) => ({ title, file })),
    errorCodes: Object.entries(merged.errorCodes).map(([code, status]) => ({ code, status })),
    schemaFields: schemaFieldsByModel(merged.schemaFields),
    schemaModules: [...new Set(Object.values(merged.schemaFields).flatMap((field) => field.modules ?? []))].sort(),
    readinessChecks: Object.entries(merged.readinessChecks).map(([name, check]) => ({ name, ...check })),
    readinessModules: [...new Set(Object.values(merged.readinessChecks).map((check) => check.module))].sort(),
    fly: {
      env: Object.entries(merged.flyEnv).map(([name, entry]) => ({ name, value: entry.value, comment: entry.comment ?? null })),
      sections: Object.entries(merged.flySections).map(([name, section]) => ({
        comment: section.comment ?? null,
        // Indented under the header, as the rest of fly.toml is.
        text: toToml({ [name]: section.table }).trimEnd().replace(/^(?!\[|$)/gm, "  "),
      })),
    },
    dockerfile,
    clientHeaders: Object.entries(merged.clientHeaders).map(([name, value]) => ({ name, value })),
    clientKeyRequired: Object.keys(merged.clientHeaders).some((name) => name.toLowerCase() === "authorization"),
    readme: { deploy: Object.values(merged.readme).filter((s) => s.at === "deploy").map((s) => s.text) },
    deploy: {
      // What only a deploy option asks for (--redis) is the deploy's, not a step of every README.
      provisioning: Object.values(merged.provisioning).filter((step) => !step.service?.option),
      askedSecrets: secrets.filter(([, secret]) => !secret.generate).map(([name]) => name),
    },
  };
}

export function buildContext(options: ProjectOptions, features: readonly Feature[], extras: PlanExtras = {}): TemplateContext {
  const provider = findProvider(options.provider);
  const region = findRegion(options.region);
  if (!provider || !region) throw new Error("options must be resolved before planning");
  const projectName = path.basename(path.resolve(options.directory));
  const merged = mergeContributions(features);
  const dependencies = Object.values(merged.dependencies);
  const devDependencies = Object.values(merged.devDependencies);
  const offlineIds = PROVIDERS.filter((p) => p.offline).map((p) => p.id);
  return {
    projectName,
    appName: options.name,
    packageName: packageNameFor(options.name, [...dependencies, ...devDependencies]),
    provider: {
      id: provider.id,
      label: provider.label,
      apiKeyEnv: provider.apiKeyEnv,
      keysUrl: provider.keysUrl,
      ownKeyEnv: provider.apiKeyEnv === INFERENCE_KEY_ENV ? null : provider.apiKeyEnv,
      keyRequired: provider.keyRequired,
      offline: provider.offline,
      maxTokensParam: provider.maxTokensParam,
      values: [...new Set([provider.id, "openai-compatible", ...offlineIds])],
      deployNote: provider.deployNote ?? null,
    },
    providers: (PROVIDERS as readonly Provider[]).flatMap((p) => (p.baseUrl ? [{ label: p.label, baseUrl: p.baseUrl, note: p.urlNote ?? null }] : [])),
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
    enabledFeatures: features.filter((f) => f.option).map((f) => f.id),
    ...contributionContext(merged),
    port: PORT,
    command: commandLine(options, projectName, extras),
    recordedOptions: recordedTable({ ...options, org: extras.org, regions: extras.regions?.join(",") }),
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
export function nextSteps(options: ProjectOptions, outcome: Outcome = {}, features: readonly Feature[] = enabledFeatures(options)): string[] {
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
  steps.push(...Object.values(mergeContributions(features).nextSteps));
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
  const extras: PlanExtras = { ...given, regions: [...new Set(given.regions ?? [])].filter((code) => code !== options.region && findRegion(code)) };
  const features = enabledFeatures(options, given.features);
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
    nextSteps: nextSteps(options, {}, features),
    command: commandLine(options, options.directory, extras),
    deploy: { provisioning: context.deploy.provisioning, secrets: Object.keys(mergeContributions(features).secrets) },
  };
}
