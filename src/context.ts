import type { SettingField } from "./features/types.js";

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
    isMock: boolean;
  };
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
  /** Every feature id -> whether this project has it. */
  features: Record<string, boolean>;
  /** Ids of the optional features this project has. */
  enabledFeatures: string[];
  /** Modules of app/routes/ whose `router` main.py includes, in feature order (health first): the order routes are matched in. */
  routers: string[];
  /** Modules of app/ whose `setup(app)` create_app() calls, in feature order. */
  setups: string[];
  /** Paths every feature serves without an API key, sorted. */
  publicPaths: string[];
  /** Paths the rate limit does not count, sorted. */
  unmeteredPaths: string[];
  /** Settings that features add, with `env`: the environment variable (upper-case name). */
  settings: (SettingField & { env: string })[];
  /** Docs pages of features, linked from the README. */
  docs: { title: string; file: string }[];
  /** Port uvicorn listens on inside the container and fly.toml's internal_port. */
  port: number;
  /** The non-interactive command line that re-creates this project. */
  command: string;
  /** `[tool.create-fly-fastapi]` of pyproject.toml as TOML text: every option the project was created with. */
  recordedOptions: string;
  generator: { name: string; version: string };
}
