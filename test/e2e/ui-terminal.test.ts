/**
 * The command's own user interface: plain output without a terminal or with NO_COLOR, a hint
 * with every error, the regions multiselect, and next steps that work exactly as printed
 * (each variant's commands are run in the project they were printed for).
 */
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPTIONAL_FEATURES } from "../../src/features/index.js";
import { startFakeApp, workspace, type Workspace } from "../deploy/helpers.js";
import { BIN, runCli } from "../support/cli.js";
import { REPO_ROOT } from "../support/tools.js";
import { printedSteps, runPrinted } from "./ui-steps.js";

const ESCAPE = "\x1b";
const SPINNER_FRAMES = /[◒◐◓◑]/;
/** Only this features: the next steps do not depend on features, and their tests stay about the steps. */
const mine = OPTIONAL_FEATURES.map((f) => (f.id === "ui" || f.id === "github-actions" ? `--${f.id}` : `--no-${f.id}`));

let root: string;
let app: Awaited<ReturnType<typeof startFakeApp>>;
let ws: Workspace;
/** The fake flyctl first on PATH, the fake deployed app for the smoke test. */
const deployEnv = () => ws.env({}, app.env);
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-term-"));
  app = await startFakeApp();
  ws = await workspace();
});
afterAll(async () => {
  await app?.close();
  await ws?.remove();
  if (root) await fs.remove(root);
});

describe("output without a terminal", () => {
  const runs: [string, string[]][] = [
    ["--help", ["--help"]],
    ["--dry-run", ["plain-dry", "--yes", "--dry-run"]],
    ["a project written", ["plain-real", "--yes", "--no-install", "--no-git"]],
    ["a bad option", ["plain-bad", "--provider", "nope", "--yes"]],
    ["a deploy that cannot start", ["deploy", "no-such-project"]],
  ];

  it.each(runs)("%s: no escape codes and no spinner, with and without NO_COLOR", async (_, args) => {
    const envs: Record<string, string>[] = [{ TERM: "xterm-256color" }, { TERM: "xterm-256color", NO_COLOR: "1" }];
    for (const env of envs) {
      const result = await runCli(args, { cwd: root, env });
      const all = result.stdout + result.stderr;
      expect(all.length, JSON.stringify(env)).toBeGreaterThan(0);
      expect(all.includes(ESCAPE), `${JSON.stringify(env)}: ${JSON.stringify(all.slice(0, 400))}`).toBe(false);
      expect(all).not.toMatch(SPINNER_FRAMES);
    }
  });

  it.each([
    [["--regions", "fra,mars", "--yes"], 'unknown region "mars"', "for example --regions fra,sin"],
    [["--name", "Bad_Name", "--yes"], "invalid app name", "for example --name my-ai-api"],
    [["--provider", "custom", "--yes"], "missing --base-url", "for example --base-url https://my-vllm.modal.run/v1"],
    [["--bogus"], "unknown option --bogus", "create-fly-fastapi --help"],
    [[], "no terminal to ask in", "--yes"],
  ])("every error comes with a hint: %j", async (args, error, hint) => {
    const result = await runCli([path.join(root, "hinted"), ...args], { cwd: root });
    expect(result.exitCode).toBe(1);
    const [first, second, ...rest] = result.stderr.trim().split("\n");
    expect(first).toMatch(/^error: /);
    expect(first).toContain(error);
    expect(second).toMatch(/^hint: /);
    expect(second).toContain(hint);
    expect(rest).toEqual([]);
  });
});

/** Runs a command in a pseudo-terminal (see test/support/pty_drive.py) with exactly `env`. */
async function inTerminal(args: string[], env: Record<string, string>, steps: [string, string][]) {
  const script = { argv: [process.execPath, BIN, ...args], cwd: root, env, steps, timeout: 45 };
  const result = await execa("python3", [path.join(REPO_ROOT, "test/support/pty_drive.py"), JSON.stringify(script)], {
    extendEnv: false,
    env: { PATH: process.env.PATH!, HOME: root, LANG: "C.UTF-8" },
  });
  return JSON.parse(result.stdout) as { exit: number; output: string; raw: string; unmatched: string[] };
}

describe("in a terminal", () => {
  const COLOUR = /\x1b\[[0-9;]*m/;
  const questions: [string, string][] = [
    ["Fly app name", "\r"],
    ["Deploy to Fly.io now", "\r"],
  ];
  const flags = ["--provider", "mock", "--region", "iad", "--python-tool", "uv", "--no-install", "--no-git", ...mine];

  it("uses colour, and none at all with NO_COLOR", async () => {
    const coloured = await inTerminal(["tty-colour", ...flags], { TERM: "xterm-256color" }, questions);
    expect(coloured.unmatched).toEqual([]);
    expect(coloured.exit).toBe(0);
    expect(coloured.raw).toMatch(COLOUR);

    const plain = await inTerminal(["tty-plain", ...flags], { TERM: "xterm-256color", NO_COLOR: "1" }, questions);
    expect(plain.unmatched).toEqual([]);
    expect(plain.exit).toBe(0);
    expect(plain.output).toContain("Next steps");
    expect(plain.raw).not.toMatch(COLOUR);
  });

  it("offers extra regions grouped by continent when deploying, writes them into the README and starts them", async () => {
    const DOWN = "\x1b[B";
    const env: Record<string, string> = { ...ws.env({}, app.env), TERM: "xterm-256color" };
    delete env.CI;
    const run = await inTerminal(
      ["regional", "--provider", "mock", "--region", "iad", "--python-tool", "pip", "--no-install", "--no-git", ...mine],
      env,
      [
        ["Fly app name", "\r"],
        ["Deploy to Fly.io now", "y"],
        // The cursor starts on ewr (iad, the primary, is not offered): fra is 10 down, sin 5 more.
        ["Extra regions", `${DOWN.repeat(10)} ${DOWN.repeat(5)} \r`],
      ],
    );
    expect(run.unmatched).toEqual([]);
    expect(run.exit, run.output.slice(-2000)).toBe(0);
    for (const text of ["North America", "Europe", "Asia Pacific", "fra · Frankfurt, Germany", "sin · Singapore"]) expect(run.output).toContain(text);
    expect(run.output).not.toContain("iad · Ashburn");
    expect(run.output).toMatch(/Regions: +iad \(primary\), fra, sin/);
    const calls = (await ws.calls()).map((c) => c.argv.join(" "));
    expect(calls).toEqual(expect.arrayContaining(["scale count 1 --region fra --app regional --yes", "scale count 1 --region sin --app regional --yes"]));
    const readme = await fs.readFile(path.join(root, "regional/README.md"), "utf8");
    expect(readme).toContain("| `fra` | Frankfurt, Germany |");
    expect(readme).toContain("fly scale count 1 --region sin --yes");
    expect(run.output).toContain("--regions fra,sin --yes"); // the re-create command
  });
});

describe("next steps: exactly the commands that work, run as printed", () => {
  it("uv without --install", async () => {
    const result = await runCli(["steps-uv", "--python-tool", "uv", "--no-install", "--no-git", "--yes", ...mine], { cwd: root });
    expect(result.exitCode, result.stderr).toBe(0);
    const steps = printedSteps(result.stdout);
    expect(steps).toEqual(["cd steps-uv", "uv sync", "uv run pytest", "uv run fastapi dev app/main.py --port 8080", "npx create-fly-fastapi deploy"]);
    expect(result.stdout).toContain("Then open http://127.0.0.1:8080/ to chat with it.");
    await runPrinted(steps, root, deployEnv());
  }, 180_000);

  it("uv with --install: no install step left, and the rest works", async () => {
    const result = await runCli(["steps-uv-installed", "--python-tool", "uv", "--install", "--no-git", "--yes", ...mine], { cwd: root });
    expect(result.exitCode, result.stderr).toBe(0);
    const steps = printedSteps(result.stdout);
    expect(steps).toEqual(["cd steps-uv-installed", "uv run pytest", "uv run fastapi dev app/main.py --port 8080", "npx create-fly-fastapi deploy"]);
    // pytest ran for the variants above; here the server and the deploy.
    await runPrinted(steps.filter((s) => !s.includes("pytest")), root, deployEnv());
  }, 120_000);

  it("pip with --install, as JSON too", async () => {
    const dry = await runCli(["steps-pip-installed", "--python-tool", "pip", "--install", "--no-git", "--yes", "--dry-run", "--json", ...mine], { cwd: root });
    expect(JSON.parse(dry.stdout).nextSteps).toEqual([
      "cd steps-pip-installed",
      ".venv/bin/pytest",
      ".venv/bin/fastapi dev app/main.py --port 8080",
      "npx create-fly-fastapi deploy",
    ]);
  });

  it("an install that could not run leaves its command in the steps", async () => {
    // No uv on PATH: the install step is skipped, so `uv sync` is still to do.
    const env = { PATH: [path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter) };
    const result = await execa(process.execPath, [BIN, "steps-no-uv", "--python-tool", "uv", "--install", "--no-git", "--yes", ...mine], {
      cwd: root,
      env: { ...env, CI: "true", HOME: root },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("install: uv is not on PATH");
    expect(printedSteps(result.stdout)).toEqual(["cd steps-no-uv", "uv sync", "uv run pytest", "uv run fastapi dev app/main.py --port 8080", "npx create-fly-fastapi deploy"]);
  });

  it("after --deploy, the deploy is not a next step", async () => {
    const result = await execa(process.execPath, [BIN, "steps-deployed", "--python-tool", "pip", "--no-install", "--no-git", "--yes", "--deploy", "--json", ...mine], {
      cwd: root,
      env: ws.env({}, app.env),
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.deploy).toMatchObject({ ok: true, github: { status: "manual" } });
    expect(doc.nextSteps).toEqual(["cd steps-deployed", "python3 -m venv .venv", ".venv/bin/pip install -e '.[dev]'", ".venv/bin/pytest", ".venv/bin/fastapi dev app/main.py --port 8080"]);
  });
});
