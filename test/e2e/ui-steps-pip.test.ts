/**
 * Next steps of a pip project created without --install, run exactly as printed (a venv and a
 * pip install take the longest, so this file runs beside the others).
 */
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OPTIONAL_FEATURES } from "../../src/features/index.js";
import { startFakeApp, workspace, type Workspace } from "../deploy/helpers.js";
import { runCli } from "../support/cli.js";
import { printedSteps, runPrinted } from "./ui-steps.js";

const mine = OPTIONAL_FEATURES.map((f) => (f.id === "ui" || f.id === "github-actions" ? `--${f.id}` : `--no-${f.id}`));

let root: string;
let app: Awaited<ReturnType<typeof startFakeApp>>;
let ws: Workspace;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-steps-pip-"));
  app = await startFakeApp();
  ws = await workspace();
});
afterAll(async () => {
  await app?.close();
  await ws?.remove();
  if (root) await fs.remove(root);
});

it("next steps of pip without --install: a venv, pip, pytest, the server, the deploy, all as printed", async () => {
  const result = await runCli(["steps-pip", "--python-tool", "pip", "--no-install", "--no-git", "--yes", ...mine], { cwd: root });
  expect(result.exitCode, result.stderr).toBe(0);
  const steps = printedSteps(result.stdout);
  expect(steps).toEqual([
    "cd steps-pip",
    "python3 -m venv .venv",
    ".venv/bin/pip install -e '.[dev]'",
    ".venv/bin/pytest",
    ".venv/bin/fastapi dev app/main.py --port 8080",
    "npx create-fly-fastapi deploy",
  ]);
  expect(result.stdout).toContain("Then open http://127.0.0.1:8080/ to chat with it.");
  await runPrinted(steps, root, ws.env({}, app.env));
}, 240_000);
