import type { ProjectOptions } from "../options.js";
import type { Feature } from "./types.js";
import { gateway } from "./gateway.js";
import { githubActions } from "./github-actions.js";
import { mcp } from "./mcp.js";
import { tools } from "./tools.js";
import { ui } from "./ui.js";
import { auth } from "./auth.js";
import { observability } from "./observability.js";
import { ratelimit } from "./ratelimit.js";

/**
 * Features in the order their folders are rendered and their setups run.
 * A file may belong to one feature only.
 */
export const FEATURES: readonly Feature[] = [
  {
    id: "core",
    description: "FastAPI app with a streaming chat endpoint, settings, tests and docs",
    routers: ["health", "chat"],
    publicPaths: ["/healthz"],
    // /healthz: Fly checks it every few seconds; the docs cost no provider tokens.
    unmeteredPaths: ["/healthz", "/docs", "/docs/oauth2-redirect", "/redoc"],
  },
  { id: "docker", description: "Multi-stage, non-root Dockerfile and .dockerignore" },
  { id: "fly", description: "fly.toml tuned for long-lived streams" },
  ui,
  githubActions,
  gateway,
  tools,
  mcp,
  // Hardening, last: each setup wraps the middleware added before it, so the rate limit
  // sees the key auth identified, and observability sees every answer, a 401 or 429 too.
  ratelimit,
  auth,
  observability,
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
