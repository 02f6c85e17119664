import type { TemplateContext } from "../context.js";
import type { ProjectOptions } from "../options.js";

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

/**
 * A feature of the generated project: the folder templates/<id>/ plus this
 * small module. The planner renders the folder when the feature is enabled; a
 * feature adds to shared files only through the fields below, so adding one
 * touches no other feature.
 */
export interface Feature {
  id: string;
  description: string;
  /**
   * Present for features users switch on and off: this declares the option
   * (`--<id>` / `--no-<id>`, the features prompt, --help and docs). Absent: always on.
   */
  option?: {
    label: string;
    hint: string;
    default: boolean;
  };
  /** Extra runtime dependencies (pinned PEP 508 strings) for pyproject.toml. */
  pythonDependencies?: readonly string[];
  /** Extra development dependencies for pyproject.toml. */
  pythonDevDependencies?: readonly string[];
  /** Modules in app/routes/ whose `router` main.py includes. */
  routers?: readonly string[];
  /**
   * Modules in app/ with a `setup(app: FastAPI) -> None` that create_app() calls
   * after the routers are included, in feature order (middleware order follows it).
   */
  setups?: readonly string[];
  /** Paths served without an API key when auth is on: they must hold no secret. */
  publicPaths?: readonly string[];
  /**
   * Paths the rate limit does not count: checks and scrapes, and paths whose work is counted
   * where it lands (an MCP tool call is counted as the request to the operation it calls).
   */
  unmeteredPaths?: readonly string[];
  /** Fields added to the generated Settings. */
  settings?: readonly SettingField[];
  /** Pages in the generated docs/ folder, linked from its README. */
  docs?: readonly { title: string; file: string }[];
  /** Secrets the deploy step must set on Fly (names of environment variables). */
  secrets?(options: ProjectOptions): string[];
  /**
   * Files built in code rather than from templates/<id>/ (e.g. YAML written with the `yaml`
   * library), added to the plan beside the folder's files; a path may belong to one feature only.
   */
  files?(context: TemplateContext): readonly { path: string; content: string }[];
  /**
   * Secrets among `secrets` that the deploy step generates when neither the environment nor the
   * app has one: name -> a fresh value, shown to the user once. A `bearer` secret holds the API
   * keys clients send (comma-separated); the deploy's smoke test sends its first one.
   */
  generatedSecrets?: Readonly<Record<string, { generate(): string; bearer?: boolean }>>;
}
