import type { ProvisioningStep, SchemaField, SchemaModel, SettingField } from "./features/types.js";

/**
 * The variables every template sees. This is the contract between src/ and templates/:
 * a template that names anything else fails to render (Handlebars strict mode).
 */
export interface TemplateContext {
  /** Directory name of the project, e.g. "my-api". */
  projectName: string;
  /** Fly app name: lowercase letters, digits, dashes. */
  appName: string;
  /** Python distribution name for pyproject ([a-z0-9-]). */
  packageName: string;
  provider: {
    id: string;
    label: string;
    /** Environment variable holding the key, or null (mock, ollama). */
    apiKeyEnv: string | null;
    keysUrl: string | null;
    /** The preset's own key variable, read before INFERENCE_API_KEY; null when it has none but that one. */
    ownKeyEnv: string | null;
    /** The app refuses to start without the key while PROVIDER is this preset. */
    keyRequired: boolean;
    /** Answers without any network: the mock. */
    offline: boolean;
    maxTokensParam: string;
    /** What PROVIDER accepts: this preset, openai-compatible, and the offline presets. */
    values: string[];
    /** What a deploy with this preset needs, for the README; null when nothing special. */
    deployNote: string | null;
  };
  /** Presets with a fixed base URL, for the README's list of providers. */
  providers: { label: string; baseUrl: string; note: string | null }[];
  /** Resolved model id (preset default or --model). */
  model: string;
  /** Resolved OpenAI-compatible base URL; null for mock. */
  baseUrl: string | null;
  region: { code: string; city: string };
  /** Extra regions (`--regions`), each to get one Machine besides the primary region's; often empty. */
  regions: { code: string; city: string }[];
  python: {
    tool: "uv" | "pip";
    isUv: boolean;
    isPip: boolean;
    /** Tag of the python base image, e.g. "3.13-slim". */
    image: string;
    /** requires-python, e.g. ">=3.11". */
    requires: string;
    uvVersion: string;
    dependencies: string[];
    devDependencies: string[];
  };
  /** Ids of the optional features this project has. */
  enabledFeatures: string[];
  /** Modules of app/routes/ whose `router` app/api.py includes, in feature order: the order routes are matched in (after /healthz). */
  routers: string[];
  /** Modules of app/ whose `middleware(settings)` app/middleware.py lists, outermost first (the reverse of feature order). */
  middleware: string[];
  /** Lifespans of modules of app/ that app/lifespan.py enters, in feature order; `state`: the `app.state` attribute of what it yields, or null. */
  lifespans: { module: string; state: string | null }[];
  /** `module.function` checks of the settings that create_app() runs first, in feature order. */
  settingChecks: string[];
  /** Modules of app/ that app/lifespan.py imports for their lifespans and checks, sorted. */
  lifespanModules: string[];
  /** Dependencies and responses every route of app/api.py's router shares, and the modules they come from (sorted). */
  api: {
    dependencies: string[];
    responses: { status: string; value: string }[];
    exceptionHandlers: { exception: string; handler: string }[];
    /** Imports from libraries (`from module import names`), sorted by module. */
    libraryImports: { module: string; names: string }[];
    modules: string[];
  };
  /** Paths every feature serves without an API key, sorted. */
  publicPaths: string[];
  /** Paths the rate limit does not count, sorted. */
  unmeteredPaths: string[];
  /** Settings that features add, with `env`: the environment variable (upper-case name). */
  settings: (SettingField & { env: string })[];
  /** Docs pages of features, linked from the README. */
  docs: { title: string; file: string }[];
  /** Codes of the API's error object (schemas.py's ErrorCode) and their HTTP status, in feature order. */
  errorCodes: { code: string; status: number }[];
  /** Fields features add to core's models, by model, in feature order. */
  schemaFields: Record<SchemaModel, SchemaField[]>;
  /** Standard-library modules those fields' types name, sorted (schemas.py imports them). */
  schemaModules: string[];
  /** Checks of GET /readyz: the name it reports, the module and its `async def <function>(app) -> bool`. */
  readinessChecks: { name: string; module: string; function: string }[];
  /** Modules of app/ that readiness checks come from, sorted (for imports). */
  readinessModules: string[];
  fly: {
    /** `[env]` variables features add, after the core ones. */
    env: { name: string; value: string; comment: string | null }[];
    /** Top-level tables features add, each as TOML text (smol-toml), with its comment. */
    sections: { comment: string | null; text: string }[];
  };
  /** Dockerfile additions by anchor, each a block of lines (comment included). */
  dockerfile: { builder: string[]; runtime: string[]; final: string[] };
  /** Headers a client sends with each request, shown in the README's examples. */
  clientHeaders: { name: string; value: string }[];
  /** Clients send an API key (some feature contributes the `authorization` header). */
  clientKeyRequired: boolean;
  /** README sections of features, by anchor. */
  readme: { deploy: string[] };
  deploy: {
    /** What to provision before the first deploy. */
    provisioning: ProvisioningStep[];
    /** Secrets of features that the deploy asks for (not generated), for the README's deploy commands. */
    askedSecrets: string[];
  };
  /** Port uvicorn listens on inside the container and fly.toml's internal_port. */
  port: number;
  /** The non-interactive command line that re-creates this project. */
  command: string;
  /** `[tool.create-fly-fastapi]` of pyproject.toml as TOML text: every option the project was created with. */
  recordedOptions: string;
  generator: { name: string; version: string };
}
