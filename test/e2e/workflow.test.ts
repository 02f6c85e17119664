/**
 * The GitHub Actions workflow of a generated project (`github-actions` feature): valid for
 * actionlint, the test job's commands pass on the project itself, and the deploy offers to set
 * its FLY_API_TOKEN secret with gh.
 */
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deployProject, type DeployRequest } from "../../src/deploy/index.js";
import { plainUi, type DeployUi } from "../../src/deploy/ui.js";
import { OPTIONAL_FEATURES } from "../../src/features/index.js";
import { GITHUB_ACTIONS } from "../../src/versions.js";
import { startFakeApp, workspace, type Workspace } from "../deploy/helpers.js";
import { runCli } from "../support/cli.js";
import { projectEnv } from "../support/serve.js";
import { TOOLS_BIN } from "../support/tools.js";

const ACTIONLINT = path.join(TOOLS_BIN, "actionlint");
const actionlintMissing = !(await fs.pathExists(ACTIONLINT));
if (actionlintMissing) console.warn(`skipping the actionlint checks: ${ACTIONLINT} was not built (needs Go; see test/support/tools.ts)`);

const WORKFLOW = ".github/workflows/ci.yml";
/** Only github-actions, so the workflow meets the core project alone. */
const onlyActions = OPTIONAL_FEATURES.map((f) => (f.id === "github-actions" ? "--github-actions" : `--no-${f.id}`));

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { needs?: string; if?: string; steps: Step[] }>;
}

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-workflow-"));
});
afterAll(async () => {
  if (root) await fs.remove(root);
});

async function generate(id: string, args: string[]): Promise<string> {
  const dir = path.join(root, id);
  const result = await runCli([dir, "--yes", "--no-git", ...onlyActions, ...args]);
  if (result.exitCode !== 0) throw new Error(`CLI failed:\n${result.stderr}\n${result.stdout}`);
  return dir;
}

const readWorkflow = async (dir: string) => parse(await fs.readFile(path.join(dir, WORKFLOW), "utf8")) as Workflow;

describe.each([
  ["uv", ["--python-tool", "uv"]],
  ["pip", ["--python-tool", "pip"]],
])("the workflow of a %s project", (tool, args) => {
  let dir: string;
  beforeAll(async () => {
    dir = await generate(`actions-${tool}`, [...args, "--no-install"]);
  });

  it.skipIf(actionlintMissing)("passes actionlint", async () => {
    const lint = await execa(ACTIONLINT, ["-no-color", WORKFLOW], { cwd: dir, reject: false });
    expect(lint.stdout + lint.stderr).toBe("");
    expect(lint.exitCode).toBe(0);
  });

  it("tests every push and pull request, and deploys the default branch with flyctl and FLY_API_TOKEN", async () => {
    const workflow = await readWorkflow(dir);
    expect(Object.keys(workflow.on)).toEqual(["push", "pull_request", "workflow_dispatch"]);
    const { test, deploy } = workflow.jobs;
    const runs = test!.steps.flatMap((s) => (s.run ? [s.run.trim()] : []));
    if (tool === "uv") {
      expect(runs).toEqual(expect.arrayContaining(["uv sync --locked", "uv run ruff check .", "uv run ruff format --check .", "uv run pytest"]));
    } else {
      expect(runs).toEqual(expect.arrayContaining([".venv/bin/ruff check .", ".venv/bin/ruff format --check .", ".venv/bin/pytest"]));
    }
    expect(deploy!.needs).toBe("test");
    expect(deploy!.if).toContain("github.event.repository.default_branch");
    expect(deploy!.steps.map((s) => s.uses).filter(Boolean)).toEqual([GITHUB_ACTIONS.checkout, "superfly/flyctl-actions/setup-flyctl@master"]);
    const release = deploy!.steps.find((s) => s.run === "flyctl deploy --remote-only");
    expect(release?.env).toEqual({ FLY_API_TOKEN: "${{ secrets.FLY_API_TOKEN }}" });
    expect(await fs.readFile(path.join(dir, ".github/dependabot.yml"), "utf8")).toContain("package-ecosystem: github-actions");
    expect(await fs.readFile(path.join(dir, "README.md"), "utf8")).toContain("[CI/CD with GitHub Actions](docs/ci.md)");
  });
});

describe.skipIf(actionlintMissing)("actionlint", () => {
  it("is not a rubber stamp: it rejects a broken workflow", async () => {
    const dir = path.join(root, "broken");
    await fs.outputFile(
      path.join(dir, WORKFLOW),
      "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets.FLY_API_TOKEN.nope( }}\n",
    );
    const lint = await execa(ACTIONLINT, ["-no-color", WORKFLOW], { cwd: dir, reject: false });
    expect(lint.exitCode).toBe(1);
  });
});

describe("the test job's commands", () => {
  it("pass on the generated uv project, as the workflow runs them", { timeout: 120_000 }, async () => {
    const dir = await generate("actions-run", ["--python-tool", "uv", "--install"]);
    const { test } = (await readWorkflow(dir)).jobs;
    // Everything after installing uv (uv is on PATH here already). The last step, `uv run pytest`,
    // is also a printed next step, which test/e2e/ui-terminal.test.ts runs.
    const steps = test!.steps.filter((s) => s.run && !s.run.includes("pip install uv"));
    expect(steps.map((s) => s.name)).toEqual(["Install the dependencies (uv.lock)", "Lint", "Check formatting", "Check types", "Test"]);
    expect(steps.at(-1)!.run).toBe("uv run pytest");
    for (const step of steps.slice(0, -1)) {
      const result = await execa("bash", ["-e", "-c", step.run!], { cwd: dir, reject: false, all: true, env: projectEnv({ CI: "true" }), extendEnv: false });
      expect(result.exitCode, `${step.name}: ${step.run}\n${result.all?.slice(-2000)}`).toBe(0);
    }
  });
});

/** A person at a terminal, answering from a script; records what was asked. */
function scriptedUi(answers: { confirm: boolean; secret: string }) {
  const asked: string[] = [];
  const output: string[] = [];
  const ui: DeployUi = {
    ...plainUi((line) => output.push(line)),
    interactive: true,
    async askSecret(name, _message, optional) {
      asked.push(`secret ${name}${optional ? " (optional)" : ""}`);
      return answers.secret;
    },
    async askAppName() {
      throw new Error("not asked here");
    },
    async confirm(message) {
      asked.push(`confirm ${message}`);
      return answers.confirm;
    },
  };
  return { ui, asked, output };
}

describe("the deploy and the workflow's FLY_API_TOKEN secret", () => {
  const TOKEN = "FlyV1 fm2_test-deploy-token-0123456789";
  let app: Awaited<ReturnType<typeof startFakeApp>>;
  let ws: Workspace;
  beforeAll(async () => {
    app = await startFakeApp();
  });
  afterAll(() => app.close());
  afterEach(() => ws?.remove());

  /** A mock-provider project with the generated workflow, and a fake `gh` that records its calls. */
  async function setUp(gh: "ok" | "fails" | "missing") {
    ws = await workspace({ provider: "mock", uv: false });
    await fs.outputFile(path.join(ws.dir, WORKFLOW), "jobs:\n  deploy:\n    env:\n      FLY_API_TOKEN: ${{ secrets.FLY_API_TOKEN }}\n");
    const log = path.join(ws.root, "gh.log");
    if (gh !== "missing") {
      const fail = gh === "fails" ? `echo "no git remotes found" >&2; exit 1` : "exit 0";
      const script = `#!/bin/sh\n[ "$1" = "--version" ] && { echo "gh version 2.81.0"; exit 0; }\nprintf '%s\\n' "$*" >> "${log}"\ncat >> "${log}.stdin"\n${fail}\n`;
      await fs.writeFile(path.join(ws.binDir, "gh"), script, { mode: 0o755 });
    }
    const calls = async () => ({
      argv: (await fs.readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean),
      stdin: await fs.readFile(`${log}.stdin`, "utf8").catch(() => ""),
    });
    return { calls };
  }

  const request = (ui: DeployUi): DeployRequest => ({
    dir: ws.dir,
    org: "personal",
    regions: [],
    yes: true,
    env: { ...ws.env({}, app.env) },
    ui,
    rerun: "npx create-fly-fastapi deploy my-api",
  });

  it("asks first, then hands the token to `gh secret set` on stdin only", async () => {
    const { calls } = await setUp("ok");
    const { ui, asked, output } = scriptedUi({ confirm: true, secret: TOKEN });
    const summary = await deployProject(request(ui));
    expect(asked).toEqual([
      "confirm Set the FLY_API_TOKEN secret of this project's GitHub repository with gh, so pushes to main deploy?",
      "secret FLY_API_TOKEN (optional)",
    ]);
    expect(await calls()).toEqual({ argv: ["secret set FLY_API_TOKEN"], stdin: TOKEN });
    expect(summary.github).toMatchObject({ status: "set" });
    expect(output.join("\n")).not.toContain(TOKEN);
    expect(JSON.stringify(summary)).not.toContain(TOKEN);
  });

  it("sets nothing when the answer is no, and says how to do it later", async () => {
    const { calls } = await setUp("ok");
    const { ui, output } = scriptedUi({ confirm: false, secret: TOKEN });
    const summary = await deployProject(request(ui));
    expect((await calls()).argv).toEqual([]);
    expect(summary.github).toMatchObject({ status: "declined" });
    expect(output.join("\n")).toContain("fly tokens create deploy | gh secret set FLY_API_TOKEN");
  });

  it("keeps the deploy a success when gh refuses, and prints the command", async () => {
    await setUp("fails");
    const { ui, output } = scriptedUi({ confirm: true, secret: TOKEN });
    const summary = await deployProject(request(ui));
    expect(summary.ok).toBe(true);
    expect(summary.github).toMatchObject({ status: "failed", reason: "no git remotes found" });
    expect(output.join("\n")).toContain("gh secret set FLY_API_TOKEN");
  });

  it.each([
    ["without a terminal", "ok" as const, false],
    ["without gh", "missing" as const, true],
  ])("%s it asks nothing and prints the exact commands", async (_, gh, interactive) => {
    const { calls } = await setUp(gh);
    const { ui, asked, output } = scriptedUi({ confirm: true, secret: TOKEN });
    const summary = await deployProject(request({ ...ui, interactive }));
    expect(asked).toEqual([]);
    expect((await calls()).argv).toEqual([]);
    expect(summary.github).toMatchObject({ status: "manual", command: expect.stringMatching(/^cd \S*my-api && fly tokens create deploy \| gh secret set FLY_API_TOKEN$/) });
    expect(output.join("\n")).toContain("once the repository has the FLY_API_TOKEN secret");
  });
});
