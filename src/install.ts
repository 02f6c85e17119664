import { execa } from "execa";
import type { ProjectOptions } from "./options.js";

export interface StepResult {
  step: "install" | "git";
  status: "done" | "skipped" | "failed";
  /** What happened, one line: why it was skipped, or what to run by hand. */
  note: string;
}

async function onPath(command: string): Promise<boolean> {
  const result = await execa(command, ["--version"], { reject: false, stdin: "ignore" });
  return result.exitCode === 0;
}

/** Runs a command in the project, output captured; the last lines explain a failure. */
async function run(cwd: string, file: string, args: string[]) {
  const result = await execa(file, args, { cwd, reject: false, all: true, stdin: "ignore", env: { VIRTUAL_ENV: undefined } });
  const tail = (result.all ?? "").trim().split("\n").slice(-3).join(" | ");
  return { ok: result.exitCode === 0, tail };
}

/** Locks and syncs with uv, or builds a venv with pip. Missing tools are a note, not an error. */
export async function installDependencies(dir: string, options: ProjectOptions): Promise<StepResult> {
  if (options.pythonTool === "uv") {
    if (!(await onPath("uv"))) {
      return { step: "install", status: "skipped", note: "uv is not on PATH: install it (https://docs.astral.sh/uv/) and run `uv sync`" };
    }
    const synced = await run(dir, "uv", ["sync"]);
    return synced.ok
      ? { step: "install", status: "done", note: "uv sync: .venv and uv.lock are ready" }
      : { step: "install", status: "failed", note: `uv sync failed: ${synced.tail}` };
  }
  const python = (await onPath("python3")) ? "python3" : (await onPath("python")) ? "python" : undefined;
  if (!python) {
    return { step: "install", status: "skipped", note: "python3 is not on PATH: install Python 3.11+ and run `python3 -m venv .venv`" };
  }
  const venv = await run(dir, python, ["-m", "venv", ".venv"]);
  if (!venv.ok) return { step: "install", status: "failed", note: `python3 -m venv failed: ${venv.tail}` };
  const pip = await run(dir, ".venv/bin/python", ["-m", "pip", "install", "--quiet", "-e", ".[dev]"]);
  return pip.ok
    ? { step: "install", status: "done", note: "pip: .venv is ready" }
    : { step: "install", status: "failed", note: `pip install failed: ${pip.tail}` };
}

/** What git says when no user.name or user.email is configured (or can be guessed). */
const NO_IDENTITY = /Author identity unknown|Please tell me who you are|unable to auto-detect email address|empty ident name|no (?:email|name) was given/;

/**
 * git init plus a first commit. A missing git identity leaves the repository without one (a
 * note); any other failure of the commit (signing, a hook, a full disk) is git's own reason.
 */
export async function initGit(dir: string): Promise<StepResult> {
  if (!(await onPath("git"))) return { step: "git", status: "skipped", note: "git is not on PATH" };
  const inside = await execa("git", ["rev-parse", "--is-inside-work-tree"], { cwd: dir, reject: false, stdin: "ignore" });
  if (inside.exitCode === 0 && inside.stdout.trim() === "true") {
    return { step: "git", status: "skipped", note: "already inside a git repository" };
  }
  const init = await run(dir, "git", ["init", "--quiet", "--initial-branch=main"]);
  if (!init.ok) return { step: "git", status: "failed", note: `git init failed: ${init.tail}` };
  await run(dir, "git", ["add", "--all"]);
  const commit = await run(dir, "git", ["commit", "--quiet", "--message", "Initial commit from create-fly-fastapi"]);
  if (commit.ok) return { step: "git", status: "done", note: "git repository with a first commit" };
  if (NO_IDENTITY.test(commit.tail)) {
    return { step: "git", status: "done", note: "git repository initialised; commit it yourself (no git identity is set)" };
  }
  return { step: "git", status: "failed", note: `git repository initialised, but the first commit failed: ${commit.tail}` };
}
