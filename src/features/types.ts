import type { TomlTable } from "smol-toml";
import type { TemplateContext } from "../context.js";

/** A setting a feature adds to the generated `Settings` class, .env.example and README. */
export interface SettingField {
  /** Python attribute name; its environment variable is the same in upper case. */
  name: string;
  /** Python type annotation, e.g. "list[str]". */
  type: string;
  /** Python source of the default, e.g. "[]" or 'Field(default=60, ge=1)'. */
  default: string;
  /** The value shown in .env.example (empty for secrets). */
  example: string;
  description: string;
  /** Set as a Fly secret, never in fly.toml or on disk. */
  secret?: boolean;
  /** A value the app must refuse to start with: the generated tests/test_settings.py tries it. */
  refused: string;
}

/** A variable of fly.toml's `[env]`: never a secret. */
export interface FlyEnvEntry {
  value: string;
  /** Why it is set, written as a comment above it. */
  comment?: string;
}

/** A top-level table of fly.toml, e.g. `[metrics]`, written with smol-toml. */
export interface FlySection {
  /** Written as a comment above the table. */
  comment?: string;
  table: TomlTable;
}

/**
 * Where a Dockerfile addition goes:
 *   builder: the build stage, before the dependencies are installed (e.g. build-time packages);
 *   runtime: the final stage, as root, before the app's user (e.g. a RUN that installs a package, an ENV);
 *   final:   the final stage, as the app's user, before the CMD (e.g. an EXPOSE).
 */
export type DockerfileAnchor = "builder" | "runtime" | "final";

export interface DockerfileAddition {
  at: DockerfileAnchor;
  /** Instructions, one or more lines, e.g. "EXPOSE 9091". */
  instructions: string;
  /** Why, written as a comment above them. */
  comment?: string;
}

/**
 * A check of `GET /readyz` (`/healthz` stays liveness): `async def <function>(app: FastAPI) -> bool`
 * in app/<module>.py, true when what the feature depends on answers.
 */
export interface ReadinessCheck {
  module: string;
  function: string;
}

/** The models of core's schemas.py that features may add fields to. */
export type SchemaModel = "ChatRequest" | "ChatResponse" | "Done";

/** A field a feature adds to one of core's request or response models (schemas.py). */
export interface SchemaField {
  model: SchemaModel;
  /** Python attribute name, also the JSON key. */
  name: string;
  /** Python type annotation, e.g. "uuid.UUID | None". */
  type: string;
  /** Python source of the default, e.g. 'Field(default=None, description="...")'. */
  default: string;
  /** Standard-library modules the type names, imported as `import <module>` (e.g. "uuid"). */
  modules?: readonly string[];
}

/** A secret the deploy sets on Fly (read from the environment or asked for, else generated). */
export interface DeploySecret {
  /**
   * A fresh value when neither the environment nor the app has one, shown to the user once;
   * absent: the deploy asks for it.
   */
  generate?(): string;
  /** It holds the API keys clients send (comma-separated); the deploy's smoke test sends its first one. */
  bearer?: boolean;
}

/** A database Fly runs for the app, which the deploy can create, find again by name, and attach. */
export type ManagedServiceKind = "managed-postgres" | "upstash-redis";

/** A command that provisions what a feature needs on Fly (e.g. `fly redis create`), shown before the deploy. */
export interface ProvisioningStep {
  command: string;
  /** What it is for, written beside it. */
  description: string;
  /**
   * Present when the deploy provisions it itself (src/deploy/services.ts): it creates the service
   * (or finds the one it made before), or takes the URL the user gives in `secret`'s environment
   * variable, and sets that secret on the app.
   */
  service?: {
    kind: ManagedServiceKind;
    /** The secret holding its URL, e.g. DATABASE_URL. */
    secret: string;
    /**
     * The deploy option that asks for it (e.g. "redis" for --redis); absent: always provisioned.
     * Steps with one are left out of the README's deploy commands.
     */
    option?: string;
  };
}

/** Where a README section goes: `deploy` is after the deploy commands. */
export type ReadmeAnchor = "deploy";

export interface ReadmeSection {
  at: ReadmeAnchor;
  /** Markdown, one or more paragraphs. */
  text: string;
}

/**
 * What a feature adds to the files and steps every project shares. Each kind is keyed (a list's
 * items are their own keys): shared files merge the enabled features' contributions by key, in
 * feature order, and a key two features contribute is an error that names both.
 */
export interface Contributions {
  /** Runtime dependencies: distribution name -> pinned PEP 508 requirement. */
  dependencies?: Readonly<Record<string, string>>;
  /** Development dependencies: distribution name -> pinned requirement. */
  devDependencies?: Readonly<Record<string, string>>;
  /** Fields of the generated Settings, by attribute name; each gets a .env.example line and a README row. */
  settings?: Readonly<Record<string, Omit<SettingField, "name">>>;
  /** fly.toml `[env]` variables, by name. */
  flyEnv?: Readonly<Record<string, FlyEnvEntry>>;
  /** Whole top-level tables of fly.toml, by table name. */
  flySections?: Readonly<Record<string, FlySection>>;
  /** Dockerfile instructions at an anchor, by a name of the feature's choosing. */
  dockerfile?: Readonly<Record<string, DockerfileAddition>>;
  /** Modules in app/routes/ whose `router` app/api.py includes, in feature order. */
  routers?: readonly string[];
  /**
   * Modules in app/ with a `middleware(settings: Settings) -> Middleware` that app/middleware.py
   * lists, in feature order: each wraps the middleware of the features before it. It checks the
   * settings it needs (raising SettingError), so a bad value stops the app before it serves.
   */
  middleware?: readonly string[];
  /**
   * Modules in app/ with an async context manager `lifespan(settings: Settings)` that the app's
   * lifespan (app/lifespan.py) enters in feature order; `state`: the attribute of `app.state`
   * that gets what it yields, for middleware and dependencies to read.
   */
  lifespans?: Readonly<Record<string, { state?: string }>>;
  /** Functions `(settings: Settings) -> None` that create_app() calls first, as `module.function`: they raise SettingError for a value the feature cannot run with. */
  settingChecks?: readonly string[];
  /** Dependencies every route of app/api.py's router gets, as `module.NAME` (e.g. a `Security(...)`). */
  apiDependencies?: readonly string[];
  /** Exception handlers of the app: `module.Exception` (or a library's, in full: `fastapi.exceptions.RequestValidationError`) -> `module.handler` (`async def (request, exc) -> Response`). */
  exceptionHandlers?: Readonly<Record<string, string>>;
  /** Responses every operation of app/api.py's router documents: HTTP status -> `module.NAME`. */
  apiResponses?: Readonly<Record<string, string>>;
  /** Paths served without an API key when auth is on: they must hold no secret. */
  publicPaths?: readonly string[];
  /**
   * Paths the rate limit does not count: checks and scrapes, and paths whose work is counted
   * where it lands (an MCP tool call is counted as the request to the operation it calls).
   */
  unmeteredPaths?: readonly string[];
  /** Codes of the `error` object the API answers with (schemas.py's ErrorCode) -> the HTTP status they answer with. */
  errorCodes?: Readonly<Record<string, number>>;
  /** Fields of core's request and response models, by "Model.field". */
  schemaFields?: Readonly<Record<string, Omit<SchemaField, "model" | "name">>>;
  /** Checks of GET /readyz, by the name it reports them under. */
  readinessChecks?: Readonly<Record<string, ReadinessCheck>>;
  /** Headers a client sends, e.g. `authorization`, shown in the README's requests: header -> example value. */
  clientHeaders?: Readonly<Record<string, string>>;
  /** Secrets the deploy sets on Fly, by environment variable. */
  secrets?: Readonly<Record<string, DeploySecret>>;
  /** What to provision on Fly before the first deploy, by a name of the feature's choosing. */
  provisioning?: Readonly<Record<string, ProvisioningStep>>;
  /** Commands shown after the project is written, by a name of the feature's choosing. */
  nextSteps?: Readonly<Record<string, string>>;
  /** Lines of advice (not commands) shown after the next steps, by a name of the feature's choosing. */
  tips?: Readonly<Record<string, string>>;
  /** Pages in the generated docs/ folder, linked from its README: file -> title. */
  docs?: Readonly<Record<string, string>>;
  /** Sections of the generated README, by a name of the feature's choosing. */
  readme?: Readonly<Record<string, ReadmeSection>>;
}

/**
 * A feature of the generated project: the folder templates/<id>/ plus this small module. The
 * planner renders the folder when the feature is enabled; a feature adds to shared files only
 * through `contributes`, so adding one touches no other feature.
 */
export interface Feature {
  id: string;
  description: string;
  /**
   * Present for features users switch on and off: it expands into one boolean `Option` of
   * the "features" group (src/options.ts): `--<id>` / `--no-<id>`, a choice of the features
   * multiselect, a row of --help and docs, a key recorded in pyproject.toml. Absent: always on.
   */
  option?: {
    label: string;
    hint: string;
    default: boolean;
  };
  /** Features this one comes after when both are enabled (its middleware wraps theirs, its routes follow). */
  after?: readonly string[];
  /** Features that must be enabled with this one; it comes after them. */
  requires?: readonly string[];
  /** Features that cannot be enabled with this one. */
  conflicts?: readonly string[];
  /** What it adds to shared outputs: data, the same for every project that has the feature. */
  contributes?: Contributions;
  /**
   * Keys its own templates write into a kind others contribute to (fly.toml's `[env]` PROVIDER,
   * its `[http_service]`): a contribution of another feature may not reuse them.
   */
  owns?: { readonly [K in keyof Contributions]?: readonly string[] };
  /**
   * Files built in code rather than from templates/<id>/ (e.g. YAML written with the `yaml`
   * library), added to the plan beside the folder's files; a path may belong to one feature only.
   */
  files?(context: TemplateContext): readonly { path: string; content: string }[];
}
