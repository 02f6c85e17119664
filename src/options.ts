import path from "node:path";
import { OPTIONAL_FEATURES } from "./features/index.js";
import { CUSTOM_PROVIDER, DEFAULT_PROVIDER, PROVIDERS, asksForBaseUrl, findProvider } from "./providers.js";
import { REGIONS, findRegion } from "./regions.js";

/**
 * Every option of every command is declared once, here, as an `Option`. The argument parser,
 * the resolver, the prompts, `--help`, docs/options.md and the options recorded in the
 * generated pyproject.toml are all derived from `OPTIONS`.
 */

export type Command = "create" | "deploy" | "add" | "remove" | "upgrade";

/** The commands that change a project already generated: they merge the new rendering with the owner's edits. */
export const UPDATE_COMMANDS = ["add", "remove", "upgrade"] as const;
export type UpdateCommand = (typeof UPDATE_COMMANDS)[number];

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

/** Options of the deploy to Fly.io: `--deploy` after creating, or the `deploy` command. */
export interface DeployOptions {
  deploy: boolean;
  /** Fly organization slug a new app is created in. */
  org: string;
  /** Extra regions, comma separated, each getting one machine besides the primary region's. */
  regions: string;
  /** Two Machines in the primary region (flyctl's `--ha`); when not given, fly.toml decides (src/deploy/machines.ts). */
  ha: boolean;
  /** An Upstash Redis for the rate limits, shared by every Machine (`fly redis create`, REDIS_URL). */
  redis: boolean;
}

/** What the options resolved so far say; defaults and checks of later options read it. */
export type Answers = Partial<ProjectOptions & DeployOptions>;

export interface Choice {
  value: string;
  label: string;
  hint?: string;
  group?: string;
}

/**
 * What an option is about: the project (recorded in its pyproject.toml), its deploy, or the
 * run itself (--yes, --json: flags that steer the command, never asked nor recorded).
 */
export type Scope = "project" | "deploy" | "run";

interface Common<V> {
  /** Key of the value in the resolved options; an optional feature's is its id. */
  key: string;
  scope: Scope;
  /** The commands that take this option. */
  commands: readonly Command[];
  /** Long flag without dashes, e.g. "base-url"; also its key in [tool.create-fly-fastapi]. */
  flag: string;
  /** One-letter alias, e.g. -y. */
  short?: string;
  /** Placeholder shown in --help, e.g. "<url>". */
  arg?: string;
  description: string;
  /** Shown beside it when it is one choice of a group's multiselect. */
  hint?: string;
  /** Question asked in a terminal; options without one are never asked. */
  prompt?: string;
  /** Ask only when this holds for the answers so far. */
  askWhen?: (answers: Answers) => boolean;
  /** Default given the answers so far; undefined means "must be given". */
  default: (answers: Answers) => V | undefined;
  /** Shown in --help and docs when the default depends on other answers. */
  defaultText?: string;
  /** Returns an error message, or undefined when the value is fine (choices are checked apart). */
  check?: (value: V, answers: Answers) => string | undefined;
  /** A value that works, shown in the hint of an error. */
  example?: string;
  /** Without a terminal the default is taken rather than asked for (not deploying is safe). */
  quietDefault?: boolean;
  /** False: not recorded in [tool.create-fly-fastapi] (the directory; deploying now). */
  record?: false;
  /** Options of a group are asked together as one multiselect; values land in answers[group]. */
  group?: "features";
  /** What differs when another command takes it: `deploy --name` defaults to fly.toml's app. */
  in?: Partial<Record<Command, Partial<Pick<Common<V>, "description" | "prompt" | "askWhen" | "default" | "defaultText">>>>;
  /** What is kept of a valid value typed, pasted or recorded (e.g. a URL without the newline a paste adds). */
  normalize?: (value: V) => V;
}

export type Option =
  | (Common<string> & { type: "string" })
  | (Common<string> & { type: "choice"; choices: readonly Choice[] })
  /** Several of `choices`, comma separated ("fra,sin"); recorded as a TOML array. */
  | (Common<string> & { type: "list"; choices: readonly Choice[] })
  | (Common<boolean> & { type: "boolean" });

/** Options asked together as one question: the optional features. */
export interface OptionGroup {
  key: "features";
  type: "group";
  prompt: string;
  description: string;
  choices: readonly Extract<Option, { type: "boolean" }>[];
}

export type Question = Option | OptionGroup;

export const GROUPS: Record<NonNullable<Option["group"]>, Omit<OptionGroup, "choices">> = {
  features: {
    key: "features",
    type: "group",
    prompt: "Which features? (space toggles, enter confirms)",
    description: "Optional features of the generated app",
  },
};

/** The provider preset the answers so far chose (the default one until a provider is given). */
const presetOf = (answers: Partial<ProjectOptions>) => findProvider(answers.provider ?? DEFAULT_PROVIDER);

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

const CREATE = ["create"] as const;
const BOTH = ["create", "deploy"] as const;
/** Project options `upgrade` may change in the same step (the others keep their recorded values). */
const CHANGEABLE = ["create", "upgrade"] as const;
const EVERY = ["create", "deploy", "add", "remove", "upgrade"] as const;
const CHANGES = ["create", "add", "remove", "upgrade"] as const;
const UPDATE_DRY_RUN = "Print a unified diff of every file that would change, and the summary; write nothing";
const UPDATE_FORCE = "Go ahead although the project's git work tree has uncommitted changes";
const UPDATE_DIRECTORY = { description: "Directory of the project (also the last positional argument)", prompt: undefined, default: () => "." };

/** Each optional feature is an option of its own: a flag pair, asked with the others in one multiselect. */
const featureOptions: Option[] = OPTIONAL_FEATURES.map((feature) => ({
  key: feature.id,
  scope: "project",
  commands: CHANGEABLE,
  flag: feature.id,
  type: "boolean",
  group: "features",
  description: `${feature.option.label}: ${feature.option.hint}`,
  prompt: feature.option.label,
  hint: feature.option.hint,
  default: () => feature.option.default,
}));

export const OPTIONS: readonly Option[] = [
  {
    key: "directory",
    scope: "project",
    commands: EVERY,
    flag: "directory",
    type: "string",
    arg: "<dir>",
    description: "Directory to create the project in (also the first positional argument)",
    prompt: "Where should the project be created?",
    record: false,
    default: () => "my-ai-api",
    example: "my-ai-api",
    check: (value) =>
      value.trim() === "" || CONTROL_OR_BREAK.test(value) ? "the directory name is empty or has control characters" : undefined,
    in: {
      deploy: { description: "Directory of the project to deploy (also the first positional argument)", prompt: undefined, default: () => "." },
      add: UPDATE_DIRECTORY,
      remove: UPDATE_DIRECTORY,
      upgrade: UPDATE_DIRECTORY,
    },
  },
  {
    key: "name",
    scope: "project",
    commands: BOTH,
    flag: "name",
    type: "string",
    arg: "<app>",
    description: "Fly app name: lowercase letters, digits and dashes",
    defaultText: "derived from the directory",
    prompt: "Fly app name",
    example: "my-ai-api",
    default: (answers) => appNameFrom(answers.directory ?? "my-ai-api"),
    check: (value) =>
      APP_NAME.test(value)
        ? undefined
        : `invalid app name "${value}": use 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit`,
    in: {
      deploy: {
        description: "Fly app name to deploy as, written into fly.toml (when fly.toml's is taken)",
        defaultText: "fly.toml's app",
        prompt: undefined,
        // Empty: fly.toml's own.
        default: () => "",
      },
    },
  },
  {
    key: "provider",
    scope: "project",
    commands: CHANGEABLE,
    flag: "provider",
    type: "choice",
    arg: "<id>",
    description: "Inference provider (any OpenAI-compatible endpoint with custom)",
    prompt: "Which inference provider?",
    example: "groq",
    choices: PROVIDERS.map((p) => ({ value: p.id, label: p.label, hint: p.hint })),
    default: () => DEFAULT_PROVIDER,
  },
  {
    key: "baseUrl",
    scope: "project",
    commands: CHANGEABLE,
    flag: "base-url",
    type: "string",
    arg: "<url>",
    description: "OpenAI-compatible base URL (required with --provider custom)",
    defaultText: "the provider's",
    prompt: "Base URL of the OpenAI-compatible endpoint",
    example: "https://my-vllm.modal.run/v1",
    askWhen: (answers) => asksForBaseUrl(presetOf(answers)),
    default: (answers) => presetOf(answers)?.baseUrl ?? (presetOf(answers)?.offline ? "" : undefined),
    check: (value, answers) => {
      const preset = presetOf(answers);
      if (preset?.offline) {
        return value === "" ? undefined : `--base-url does not apply to --provider ${preset.id}; choose --provider ${CUSTOM_PROVIDER}`;
      }
      return validUrl(value);
    },
    normalize: normalizeUrl,
  },
  {
    key: "model",
    scope: "project",
    commands: CHANGEABLE,
    flag: "model",
    type: "string",
    arg: "<id>",
    description: "Model id sent to the provider (required with --provider custom)",
    defaultText: "the provider's default",
    prompt: "Model",
    example: "Qwen/Qwen3-8B",
    askWhen: (answers) => !presetOf(answers)?.offline,
    default: (answers) => presetOf(answers)?.defaultModel ?? undefined,
    check: printable("the model id"),
    // Surrounding whitespace is not part of an id; the generated app's settings drop it from MODEL too.
    normalize: (value) => value.trim(),
  },
  {
    key: "region",
    scope: "project",
    commands: CHANGEABLE,
    flag: "region",
    type: "choice",
    arg: "<code>",
    description: "Fly primary region",
    prompt: "Primary Fly region",
    example: "fra",
    choices: REGIONS.map((r) => ({ value: r.code, label: `${r.code} · ${r.city}`, group: r.area })),
    default: () => "iad",
  },
  {
    key: "pythonTool",
    scope: "project",
    commands: CHANGEABLE,
    flag: "python-tool",
    type: "choice",
    arg: "<uv|pip>",
    description: "Python package manager of the project",
    prompt: "Python package manager",
    example: "uv",
    choices: [
      { value: "uv", label: "uv", hint: "fast, with a lockfile (recommended)" },
      { value: "pip", label: "pip", hint: "venv + pip, nothing else to install" },
    ],
    default: () => "uv",
  },
  ...featureOptions,
  {
    key: "git",
    scope: "project",
    commands: CREATE,
    flag: "git",
    type: "boolean",
    description: "Initialise a git repository with a first commit",
    prompt: "Initialise a git repository?",
    default: () => true,
  },
  {
    key: "install",
    scope: "project",
    commands: CREATE,
    flag: "install",
    type: "boolean",
    description: "Install the Python dependencies (uv sync, or a pip venv)",
    prompt: "Install Python dependencies now?",
    default: () => true,
  },
  {
    key: "deploy",
    scope: "deploy",
    commands: CREATE,
    flag: "deploy",
    type: "boolean",
    description: "Deploy to Fly.io with flyctl after writing the project, then smoke-test the live URL",
    prompt: "Deploy to Fly.io now? (needs flyctl and a Fly.io account)",
    record: false,
    quietDefault: true,
    default: () => false,
  },
  {
    key: "org",
    scope: "deploy",
    commands: BOTH,
    flag: "org",
    type: "string",
    arg: "<slug>",
    description: "Fly organization a new app is created in",
    example: "personal",
    default: () => "personal",
    in: { deploy: { defaultText: "the one recorded in pyproject.toml, else personal" } },
    check: (value) => (/^[a-z0-9][a-z0-9-]{0,62}$/.test(value) ? undefined : `invalid --org "${value}": use the org's slug, e.g. personal`),
  },
  {
    key: "regions",
    scope: "deploy",
    commands: BOTH,
    flag: "regions",
    type: "list",
    arg: "<a,b>",
    description: "Extra Fly regions (comma separated) that each get one machine besides the primary region",
    // A multiselect grouped by continent, without the primary region; asked only when deploying now.
    prompt: "Extra regions, one Machine each? (space toggles, enter confirms; none is fine)",
    askWhen: (answers) => answers.deploy === true,
    quietDefault: true,
    example: "fra,sin",
    choices: REGIONS.map((r) => ({ value: r.code, label: `${r.code} · ${r.city}`, group: r.area })),
    default: () => "",
    in: { deploy: { askWhen: () => true, defaultText: "those recorded in pyproject.toml" } },
  },
  {
    key: "ha",
    scope: "deploy",
    commands: BOTH,
    flag: "ha",
    type: "boolean",
    description: "A spare Machine: 2 in the primary region instead of 1 (off unless fly.toml keeps Machines always on)",
    // Not given, fly.toml decides (src/deploy/machines.ts): the deploy reads the flag as given,
    // so it is neither recorded nor defaulted into the deploy.
    record: false,
    defaultText: "decided from fly.toml",
    default: () => false,
  },
  {
    key: "redis",
    scope: "deploy",
    commands: BOTH,
    flag: "redis",
    type: "boolean",
    description: "Create an Upstash Redis (fly redis create) and set REDIS_URL, so rate limits hold across Machines; reused on a re-run",
    // Asked by the deploy itself (src/deploy/index.ts), once it knows the Machines: only with rate
    // limits on and more than one Machine or region. Like --ha it is read as given, never recorded.
    prompt: "Rate limits count per Machine. Create an Upstash Redis that all Machines share (pay as you go)?",
    askWhen: () => false,
    record: false,
    defaultText: "asked in a terminal when rate limits are on and more than one Machine runs, else off",
    default: () => false,
  },
  {
    key: "yes",
    scope: "run",
    commands: EVERY,
    flag: "yes",
    short: "y",
    type: "boolean",
    description: "Accept every default; ask nothing",
    default: () => false,
  },
  {
    key: "dry-run",
    scope: "run",
    commands: EVERY,
    flag: "dry-run",
    type: "boolean",
    description: "Print the plan (files, sizes, summary) and write nothing",
    default: () => false,
    in: {
      deploy: { description: "Print the Machines and the estimated monthly cost a deploy would make; run no flyctl" },
      add: { description: UPDATE_DRY_RUN },
      remove: { description: UPDATE_DRY_RUN },
      upgrade: { description: UPDATE_DRY_RUN },
    },
  },
  {
    key: "plan-content",
    scope: "run",
    commands: CREATE,
    flag: "plan-content",
    type: "boolean",
    description: "With --dry-run --json: each file's content in files[].content (how add and upgrade re-render an older version)",
    default: () => false,
  },
  {
    key: "json",
    scope: "run",
    commands: EVERY,
    flag: "json",
    type: "boolean",
    description: 'Print one JSON document on stdout, {"ok": true, ...} or {"ok": false, "error": {...}}',
    default: () => false,
  },
  {
    key: "force",
    scope: "run",
    commands: CHANGES,
    flag: "force",
    type: "boolean",
    description: "Allow a non-empty directory, overwriting only files the plan writes",
    default: () => false,
    in: {
      add: { description: UPDATE_FORCE },
      remove: { description: UPDATE_FORCE },
      upgrade: { description: UPDATE_FORCE },
    },
  },
  {
    key: "help",
    scope: "run",
    commands: EVERY,
    flag: "help",
    short: "h",
    type: "boolean",
    description: "Show this help",
    default: () => false,
  },
  {
    key: "version",
    scope: "run",
    commands: EVERY,
    flag: "version",
    short: "v",
    type: "boolean",
    description: "Show the version",
    default: () => false,
  },
];

/** The options `command` takes, as that command sees them (its own description, default...). */
export function optionsFor(command: Command, scopes: readonly Scope[] = ["project", "deploy", "run"]): Option[] {
  return OPTIONS.filter((o) => o.commands.includes(command) && scopes.includes(o.scope)).map((o) => ({ ...o, ...o.in?.[command] }) as Option);
}

/** The options that describe a project: what `create` resolves and pyproject.toml records. */
export const PROJECT_OPTIONS: readonly Option[] = optionsFor("create", ["project"]);
/** The deploy options of `create --deploy`. */
export const DEPLOY_OPTIONS: readonly Option[] = optionsFor("create", ["deploy"]);

export function optionFor(key: string): Option {
  const decl = OPTIONS.find((o) => o.key === key);
  if (!decl) throw new Error(`no option ${key}`);
  return decl;
}

/** `--flag <arg>` or `--flag, --no-flag`, as --help shows it. */
export function flagUsage(decl: Option, separator = ", "): string {
  if (decl.type !== "boolean") return `--${decl.flag} ${decl.arg ?? "<value>"}`;
  return decl.scope === "run" ? `--${decl.flag}` : `--${decl.flag}${separator}--no-${decl.flag}`;
}

/** Checks one value against its declaration; returns an error message or undefined. */
export function checkOption(decl: Option, value: unknown, answers: Answers): string | undefined {
  if (decl.type === "boolean") return typeof value === "boolean" ? undefined : `--${decl.flag} is on or off, not "${String(value)}"`;
  if (typeof value !== "string") return `--${decl.flag} takes text, not ${JSON.stringify(value)}`;
  if (decl.type === "choice" && !decl.choices.some((c) => c.value === value)) {
    const allowed = decl.choices.map((c) => c.value).join(", ");
    return `unknown ${decl.flag} "${value}": choose one of ${allowed}`;
  }
  if (decl.type === "list" && value !== "") {
    const unknown = value.split(",").filter((item) => !decl.choices.some((c) => c.value === item.trim()));
    if (unknown.length > 0) {
      const allowed = decl.choices.map((c) => c.value).join(", ");
      return `unknown ${decl.key === "regions" ? "region" : decl.flag} "${unknown.join(",")}" in --${decl.flag}: choose from ${allowed}`;
    }
  }
  return (decl.check as ((v: string, a: Answers) => string | undefined) | undefined)?.(value, answers);
}

export { findProvider, findRegion };
