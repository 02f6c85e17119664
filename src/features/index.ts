import type { ProjectOptions } from "../options.js";
import { PROMETHEUS_CLIENT, PYTHON_DEPENDENCIES, PYTHON_DEV_DEPENDENCIES } from "../versions.js";
import { byDistribution } from "./contributions.js";
import type { Feature } from "./types.js";
import { gateway } from "./gateway.js";
import { githubActions } from "./github-actions.js";
import { mcp } from "./mcp.js";
import { tools } from "./tools.js";
import { ui } from "./ui.js";
import { auth } from "./auth.js";
import { observability } from "./observability.js";
import { postgres } from "./postgres.js";
import { ratelimit } from "./ratelimit.js";

export const core: Feature = {
  id: "core",
  description: "FastAPI app with a streaming chat endpoint, settings, tests and docs",
  contributes: {
    // prometheus_client: a feature declares the Counter of what it counts where it counts it.
    dependencies: byDistribution([...PYTHON_DEPENDENCIES, PROMETHEUS_CLIENT]),
    devDependencies: byDistribution(PYTHON_DEV_DEPENDENCIES),
    // /healthz is app/main.py's own, matched first: Fly checks it every few seconds.
    routers: ["chat"],
    // /readyz names its checks and their results only.
    publicPaths: ["/healthz", "/readyz"],
    // /healthz: Fly checks it every few seconds; the docs cost no provider tokens.
    unmeteredPaths: ["/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc"],
    errorCodes: {
      // The provider's failures (app/inference.py's PROVIDER_FAILURES): a refused key is the server's fault.
      bad_request: 400,
      rate_limited: 429,
      timeout: 504,
      upstream_auth: 502,
      upstream_unavailable: 502,
      upstream_error: 502,
      internal_error: 500,
      request_too_large: 413,
      shutting_down: 503,
    },
  },
};

/**
 * What every deploy of a project with this feature provisions on Fly (or the README has its owner
 * run), so removing its code would not undo it. A step asked for by a deploy option (ratelimit's
 * Upstash Redis, --redis) is not among them: most projects never made it.
 */
export function alwaysProvisioned(feature: Feature): string[] {
  return Object.entries(feature.contributes?.provisioning ?? {})
    .filter(([, step]) => !step.service?.option)
    .map(([id]) => id);
}

/** Provisioning a deploy option asks for (e.g. --redis), as `step id: deploy option`. */
export function provisionedOnRequest(feature: Feature): { id: string; option: string }[] {
  return Object.entries(feature.contributes?.provisioning ?? {}).flatMap(([id, step]) => (step.service?.option ? [{ id, option: step.service.option }] : []));
}

/**
 * Every feature the generator knows. Their order here means nothing: the planner orders the
 * enabled ones by their relations (`after`, `requires`), and a file may belong to one feature only.
 */
export const FEATURES: readonly Feature[] = [
  core,
  { id: "docker", description: "Multi-stage, non-root Dockerfile and .dockerignore" },
  {
    id: "fly",
    description: "fly.toml tuned for long-lived streams",
    // What templates/fly/fly.toml.hbs writes itself (top-level keys too: a table may not share their names).
    owns: {
      flyEnv: ["PROVIDER", "MODEL", "BASE_URL", "LOG_LEVEL"],
      flySections: ["app", "primary_region", "kill_signal", "kill_timeout", "build", "env", "http_service", "vm"],
    },
  },
  ui,
  githubActions,
  gateway,
  tools,
  mcp,
  ratelimit,
  auth,
  observability,
  postgres,
];

/** Features that users switch on and off, each one an option. */
export const OPTIONAL_FEATURES = FEATURES.filter((f): f is Feature & { option: NonNullable<Feature["option"]> } => f.option !== undefined);

export function isEnabled(feature: Feature, options: ProjectOptions): boolean {
  return feature.option === undefined || options.features[feature.id] === true;
}

export function defaultFeatures(): Record<string, boolean> {
  return Object.fromEntries(OPTIONAL_FEATURES.map((f) => [f.id, f.option.default]));
}

/** A secret some feature sets on Fly, by name (the deploy generates those with `generate`). */
export function findDeploySecret(name: string, features: readonly Feature[] = FEATURES) {
  return features.map((f) => f.contributes?.secrets?.[name]).find((secret) => secret !== undefined);
}

export type { Feature };
