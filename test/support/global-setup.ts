import { execa } from "execa";
import { ensureTools, REPO_ROOT, TOOLS_BIN } from "./tools.js";
import path from "node:path";

/** Runs once before all tests: the bundle the end-to-end tests execute, and the Python tools. */
export default async function setup() {
  await execa("npm", ["run", "--silent", "build"], { cwd: REPO_ROOT, stdio: "inherit" });
  await ensureTools();
  process.env.PATH = `${TOOLS_BIN}${path.delimiter}${process.env.PATH}`;
}
