import type { Feature } from "./types.js";

const always = () => true;

/** The order here is the order folders are rendered in; later folders may not overwrite earlier files. */
export const FEATURES: readonly Feature[] = [
  { id: "core", description: "FastAPI app with a streaming chat endpoint, settings, tests and docs", enabled: always },
  { id: "docker", description: "Multi-stage, non-root Dockerfile and .dockerignore", enabled: always },
  { id: "fly", description: "fly.toml tuned for long-lived streams", enabled: always },
];

export type { Feature };
