import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The package root: one level above both src/ (tests) and dist/ (the published bundle). */
export const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  name: string;
  version: string;
};

export const GENERATOR = { name: pkg.name, version: pkg.version } as const;

/** The port uvicorn listens on in the project, in its container and as fly.toml's internal_port. */
export const PORT = 8080;
