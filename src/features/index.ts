import type { ProjectOptions } from "../options.js";
import type { Feature } from "./types.js";

/**
 * Features in the order their folders are rendered and their setups run.
 * A file may belong to one feature only.
 */
export const FEATURES: readonly Feature[] = [
  {
    id: "core",
    description: "FastAPI app with a streaming chat endpoint, settings, tests and docs",
    routers: ["health", "chat"],
  },
  { id: "docker", description: "Multi-stage, non-root Dockerfile and .dockerignore" },
  { id: "fly", description: "fly.toml tuned for long-lived streams" },
];

/** Features that users switch on and off, each one an option. */
export const OPTIONAL_FEATURES = FEATURES.filter((f): f is Feature & { option: NonNullable<Feature["option"]> } => f.option !== undefined);

export function isEnabled(feature: Feature, options: ProjectOptions): boolean {
  return feature.option === undefined || options.features[feature.id] === true;
}

export function defaultFeatures(): Record<string, boolean> {
  return Object.fromEntries(OPTIONAL_FEATURES.map((f) => [f.id, f.option.default]));
}

export type { Feature };
