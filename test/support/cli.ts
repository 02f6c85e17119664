import { execa } from "execa";
import path from "node:path";
import { REPO_ROOT, toolEnv } from "./tools.js";

export const BIN = path.join(REPO_ROOT, "bin/create-fly-fastapi.js");

/** Runs the built CLI as CI would: no terminal, CI=true, never rejecting. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) {
  return execa("node", [BIN, ...args], {
    reject: false,
    stdin: "ignore",
    cwd: options.cwd,
    env: toolEnv({ CI: "true", ...(options.env ?? {}) }),
  });
}
