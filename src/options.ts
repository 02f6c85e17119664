import path from "node:path";
import { OPTIONAL_FEATURES, defaultFeatures } from "./features/index.js";
import { PROVIDERS, findProvider } from "./providers.js";
import { REGIONS, findRegion } from "./regions.js";

/**
 * Every option of the scaffolder is declared once, here. The argument parser,
 * the prompts, `--help` and docs/options.md are all derived from this list.
 */

export interface ProjectOptions {
  directory: string;
  name: string;
  provider: string;
  model: string;
  baseUrl: string;
  region: string;
  pythonTool: "uv" | "pip";
  git: boolean;
  install: boolean;
  /** Optional feature id -> on/off; each is a flag pair --<id> / --no-<id>. */
  features: Record<string, boolean>;
}

export interface Choice {
  value: string;
  label: string;
  hint?: string;
  group?: string;
}

interface Common<K extends keyof ProjectOptions> {
  key: K;
  /** Long flag without dashes, e.g. "base-url". */
  flag: string;
  /** Placeholder shown in --help, e.g. "<url>". */
  arg?: string;
  description: string;
  /** Question asked in a terminal; options without one are never asked. */
  prompt?: string;
  /** Ask only when this holds for the answers so far. */
  askWhen?: (answers: Partial<ProjectOptions>) => boolean;
  /** Default given the answers so far; undefined means "must be given". */
  default: (answers: Partial<ProjectOptions>) => ProjectOptions[K] | undefined;
  /** Shown in --help and docs when the default depends on other answers. */
  defaultText?: string;
  /** Returns an error message, or undefined when the value is fine. */
  validate?: (value: ProjectOptions[K], answers: Partial<ProjectOptions>) => string | undefined;
  /** What is kept of a valid value typed or pasted (e.g. a URL without the newline a paste adds). */
  normalize?: (value: ProjectOptions[K]) => ProjectOptions[K];
}

export type OptionDecl =
  | (Common<"directory" | "name" | "model" | "baseUrl"> & { type: "string" })
  | (Common<"provider" | "region" | "pythonTool"> & { type: "choice"; choices: readonly Choice[] })
  | (Common<"git" | "install"> & { type: "boolean" })
  /** The optional features, asked together; each feature module declares its own flag pair. */
  | (Common<"features"> & { type: "features"; choices: readonly (Choice & { default: boolean })[] });

const APP_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Letters that Unicode does not decompose into a base letter and a mark. */
const TRANSLITERATIONS: Record<string, string> = { ß: "ss", ø: "o", æ: "ae", œ: "oe", ł: "l", đ: "d", ð: "d", þ: "th", ı: "i" };

/** Turns any directory name into a valid Fly app name ("My API_v2" -> "my-api-v2", "ünï" -> "uni"). */
export function appNameFrom(directory: string): string {
  const slug = path
    .basename(path.resolve(directory))
    .toLowerCase()
    .replace(/[ßøæœłđðþı]/g, (letter) => TRANSLITERATIONS[letter]!)
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return slug || "fly-fastapi-app";
}

/** Control characters (C0, DEL, C1) and Unicode line and paragraph separators: no value a user types may hold one. */
const CONTROL_OR_BREAK = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/**
 * A base URL as pasted: surrounding whitespace (a trailing newline, a tab) dropped and the
 * scheme lower-cased, as the generated app's settings read BASE_URL.
 */
export function normalizeUrl(value: string): string {
  return value.trim().replace(/^[A-Za-z][A-Za-z0-9+.-]*:/, (scheme) => scheme.toLowerCase());
}

/** Checks a base URL after normalizeUrl: http(s), a host, nothing a client would read differently. */
export function validUrl(raw: string): string | undefined {
  const value = normalizeUrl(raw);
  if (!/^[a-z][a-z0-9+.-]*:/.test(value)) {
    return `"${value}" is not a URL; use an http(s) URL such as https://my-vllm.modal.run/v1`;
  }
  if (!/^https?:\/\//.test(value)) {
    return `"${value}" must start with http:// or https://, e.g. https://my-vllm.modal.run/v1`;
  }
  if (CONTROL_OR_BREAK.test(value) || /\s/u.test(value)) {
    return `the base URL ${JSON.stringify(value)} has a space or a control character inside; use an http(s) URL such as https://my-vllm.modal.run/v1`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL; use an http(s) URL such as https://my-vllm.modal.run/v1`;
  }
  // WHATWG URLs read "\\" as "/" and fill in a missing host; Python's httpx does neither.
  if (!/^https?:\/\/[^/?#\\]/.test(value) || value.includes("\\") || url.hostname === "") {
    return `"${value}" has no host; use an http(s) URL such as https://my-vllm.modal.run/v1`;
  }
  if (url.username || url.password) {
    return "the base URL must not carry credentials; the API key goes in an environment variable";
  }
  return undefined;
}

const printable = (what: string) => (value: string) =>
  value.trim() === "" || CONTROL_OR_BREAK.test(value) || value.length > 200
    ? `${what} must be 1-200 printable characters`
    : undefined;

export const OPTIONS: readonly OptionDecl[] = [
  {
    key: "directory",
    flag: "directory",
    type: "string",
    arg: "<dir>",
    description: "Directory to create the project in (also the first positional argument)",
    prompt: "Where should the project be created?",
    default: () => "my-ai-api",
    validate: (value) =>
      value.trim() === "" || CONTROL_OR_BREAK.test(value) ? "the directory name is empty or has control characters" : undefined,
  },
  {
    key: "name",
    flag: "name",
    type: "string",
    arg: "<app>",
    description: "Fly app name: lowercase letters, digits and dashes",
    defaultText: "derived from the directory",
    prompt: "Fly app name",
    default: (answers) => appNameFrom(answers.directory ?? "my-ai-api"),
    validate: (value) =>
      APP_NAME.test(value)
        ? undefined
        : `invalid app name "${value}": use 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit`,
  },
  {
    key: "provider",
    flag: "provider",
    type: "choice",
    arg: "<id>",
    description: "Inference provider (any OpenAI-compatible endpoint with custom)",
    prompt: "Which inference provider?",
    choices: PROVIDERS.map((p) => ({ value: p.id, label: p.label, hint: p.hint })),
    default: () => "mock",
  },
  {
    key: "baseUrl",
    flag: "base-url",
    type: "string",
    arg: "<url>",
    description: "OpenAI-compatible base URL (required with --provider custom)",
    defaultText: "the provider's",
    prompt: "Base URL of the OpenAI-compatible endpoint",
    askWhen: (answers) => answers.provider === "custom",
    default: (answers) => findProvider(answers.provider ?? "mock")?.baseUrl ?? (answers.provider === "mock" ? "" : undefined),
    validate: (value, answers) => {
      if (answers.provider === "mock") {
        return value === "" ? undefined : "--base-url does not apply to --provider mock; choose --provider custom";
      }
      return validUrl(value);
    },
    normalize: normalizeUrl,
  },
  {
    key: "model",
    flag: "model",
    type: "string",
    arg: "<id>",
    description: "Model id sent to the provider (required with --provider custom)",
    defaultText: "the provider's default",
    prompt: "Model",
    askWhen: (answers) => answers.provider !== "mock",
    default: (answers) => findProvider(answers.provider ?? "mock")?.defaultModel ?? undefined,
    validate: printable("the model id"),
  },
  {
    key: "region",
    flag: "region",
    type: "choice",
    arg: "<code>",
    description: "Fly primary region",
    prompt: "Primary Fly region",
    choices: REGIONS.map((r) => ({ value: r.code, label: `${r.code} · ${r.city}`, group: r.area })),
    default: () => "iad",
  },
  {
    key: "pythonTool",
    flag: "python-tool",
    type: "choice",
    arg: "<uv|pip>",
    description: "Python package manager of the project",
    prompt: "Python package manager",
    choices: [
      { value: "uv", label: "uv", hint: "fast, with a lockfile (recommended)" },
      { value: "pip", label: "pip", hint: "venv + pip, nothing else to install" },
    ],
    default: () => "uv",
  },
  {
    key: "features",
    flag: "features",
    type: "features",
    description: "Optional features of the generated app",
    prompt: "Which features? (space toggles, enter confirms)",
    choices: OPTIONAL_FEATURES.map((f) => ({ value: f.id, label: f.option.label, hint: f.option.hint, default: f.option.default })),
    default: () => defaultFeatures(),
  },
  {
    key: "git",
    flag: "git",
    type: "boolean",
    description: "Initialise a git repository with a first commit",
    prompt: "Initialise a git repository?",
    default: () => true,
  },
  {
    key: "install",
    flag: "install",
    type: "boolean",
    description: "Install the Python dependencies (uv sync, or a pip venv)",
    prompt: "Install Python dependencies now?",
    default: () => true,
  },
];

/** Options of the deploy to Fly.io: `--deploy` after creating, or the `deploy` command. */
export interface DeployOptions {
  deploy: boolean;
  /** Fly organization slug a new app is created in. */
  org: string;
  /** Extra regions, comma separated, each getting one machine besides the primary region's. */
  regions: string;
}

export interface DeployOptionDecl {
  key: keyof DeployOptions;
  flag: string;
  type: "boolean" | "string";
  arg?: string;
  description: string;
  /** Question asked in a terminal when creating a project; options without one are never asked. */
  prompt?: string;
  /** Ask only when this holds for the answers so far. */
  askWhen?: (answers: Partial<DeployOptions>) => boolean;
  default: boolean | string;
  validate?: (value: string) => string | undefined;
}

/** Every deploy option, declared once: the parser, --help, the prompt and docs/options.md derive from it. */
export const DEPLOY_OPTIONS: readonly DeployOptionDecl[] = [
  {
    key: "deploy",
    flag: "deploy",
    type: "boolean",
    description: "Deploy to Fly.io with flyctl after writing the project, then smoke-test the live URL",
    prompt: "Deploy to Fly.io now? (needs flyctl and a Fly.io account)",
    default: false,
  },
  {
    key: "org",
    flag: "org",
    type: "string",
    arg: "<slug>",
    description: "Fly organization a new app is created in",
    default: "personal",
    validate: (value) => (/^[a-z0-9][a-z0-9-]{0,62}$/.test(value) ? undefined : `invalid --org "${value}": use the org's slug, e.g. personal`),
  },
  {
    key: "regions",
    flag: "regions",
    type: "string",
    arg: "<a,b>",
    description: "Extra Fly regions (comma separated) that each get one machine besides the primary region",
    // A multiselect grouped by continent (src/deploy/options.ts), asked only when deploying now.
    prompt: "Extra regions, one Machine each? (space toggles, enter confirms; none is fine)",
    askWhen: (answers) => answers.deploy === true,
    default: "",
    validate: (value) => {
      const unknown = value.split(",").filter((code) => !findRegion(code.trim()));
      const allowed = REGIONS.map((r) => r.code).join(", ");
      return value === "" || unknown.length === 0 ? undefined : `unknown region "${unknown.join(",")}" in --regions: choose from ${allowed}`;
    },
  },
];

/** Flags that steer the command itself rather than the project. */
export const COMMAND_FLAGS = [
  { flag: "yes", short: "y", description: "Accept every default; ask nothing" },
  { flag: "dry-run", description: "Print the plan (files, sizes, summary) and write nothing" },
  { flag: "json", description: "Print one JSON document on stdout (options, files, next steps)" },
  { flag: "force", description: "Allow a non-empty directory, overwriting only files the plan writes" },
  { flag: "help", short: "h", description: "Show this help" },
  { flag: "version", short: "v", description: "Show the version" },
] as const;

export function optionFor(key: keyof ProjectOptions): OptionDecl {
  const decl = OPTIONS.find((o) => o.key === key);
  if (!decl) throw new Error(`no option ${key}`);
  return decl;
}

/** Checks one value against its declaration; returns an error message or undefined. */
export function checkOption(decl: OptionDecl, value: unknown, answers: Partial<ProjectOptions>): string | undefined {
  if (decl.type === "choice") {
    if (!decl.choices.some((c) => c.value === value)) {
      const allowed = decl.choices.map((c) => c.value).join(", ");
      return `unknown ${decl.flag} "${String(value)}": choose one of ${allowed}`;
    }
    return undefined;
  }
  const validate = decl.validate as ((v: unknown, a: Partial<ProjectOptions>) => string | undefined) | undefined;
  return validate?.(value, answers);
}

export { findProvider, findRegion };
