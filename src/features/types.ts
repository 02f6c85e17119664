import type { ProjectOptions } from "../options.js";

/**
 * A feature of the generated project: the folder templates/<id>/ plus this
 * small module. The planner renders the folder when `enabled` holds; a feature
 * adds to shared files only through the fields below, so adding one touches
 * no other feature.
 */
export interface Feature {
  id: string;
  description: string;
  enabled(options: ProjectOptions): boolean;
  /** Extra runtime dependencies (pinned PEP 508 strings) for pyproject.toml. */
  pythonDependencies?: readonly string[];
  /** Extra development dependencies for pyproject.toml. */
  pythonDevDependencies?: readonly string[];
  /** Secrets the deploy step must set on Fly (names of environment variables). */
  secrets?(options: ProjectOptions): string[];
}
