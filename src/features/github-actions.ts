import type { TemplateContext } from "../context.js";
import { GITHUB_ACTIONS } from "../versions.js";
import { Document } from "yaml";
import type { Feature } from "./types.js";

/** What a workflow is made of: strings, numbers, booleans, null (`pull_request:`), lists and mappings. */
type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

/** The secret the deploy job reads; `flyctl` authenticates with it. */
export const FLY_TOKEN_SECRET = "FLY_API_TOKEN";
export const WORKFLOW_PATH = ".github/workflows/ci.yml";

type Step = { [key: string]: YamlValue };

/** Lint and test, with uv or with a pip virtualenv: the same commands as the project's README. */
function testSteps(context: TemplateContext): Step[] {
  const python = context.python.image.split("-")[0]!;
  if (context.python.isUv) {
    return [
      { uses: GITHUB_ACTIONS.setupPython, with: { "python-version": python } },
      { name: "Install uv", run: `python -m pip install uv==${context.python.uvVersion}` },
      { name: "Install the dependencies (uv.lock)", run: "uv sync --locked" },
      { name: "Lint", run: "uv run ruff check ." },
      { name: "Check formatting", run: "uv run ruff format --check ." },
      { name: "Check types", run: "uv run mypy app" },
      { name: "Test", run: "uv run pytest" },
    ];
  }
  return [
    {
      uses: GITHUB_ACTIONS.setupPython,
      with: { "python-version": python, cache: "pip", "cache-dependency-path": "pyproject.toml" },
    },
    { name: "Install the dependencies", run: "python -m venv .venv\n.venv/bin/pip install -e '.[dev]'\n" },
    { name: "Lint", run: ".venv/bin/ruff check ." },
    { name: "Check formatting", run: ".venv/bin/ruff format --check ." },
    { name: "Check types", run: ".venv/bin/mypy app" },
    { name: "Test", run: ".venv/bin/pytest" },
  ];
}

/** The workflow as a plain object: tests on pushes and pull requests, a deploy of the default branch. */
export function workflow(context: TemplateContext): { [key: string]: YamlValue } {
  const token = `\${{ secrets.${FLY_TOKEN_SECRET} }}`;
  const hasToken = "steps.token.outputs.present == 'true'";
  return {
    name: "CI",
    on: {
      push: { branches: ["main"] },
      pull_request: null,
      workflow_dispatch: null,
    },
    permissions: { contents: "read" },
    concurrency: {
      group: "${{ github.workflow }}-${{ github.ref }}",
      "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    },
    jobs: {
      test: {
        name: "Lint and test",
        "runs-on": "ubuntu-latest",
        "timeout-minutes": 15,
        steps: [{ uses: GITHUB_ACTIONS.checkout }, ...testSteps(context)],
      },
      deploy: {
        name: "Deploy to Fly.io",
        needs: "test",
        if: "github.event_name != 'pull_request' && github.ref == format('refs/heads/{0}', github.event.repository.default_branch)",
        "runs-on": "ubuntu-latest",
        "timeout-minutes": 20,
        // One deploy at a time, and never one cut off halfway by the next push.
        concurrency: { group: "fly-deploy", "cancel-in-progress": false },
        steps: [
          { uses: GITHUB_ACTIONS.checkout },
          {
            name: `Check for the ${FLY_TOKEN_SECRET} secret`,
            id: "token",
            env: { [FLY_TOKEN_SECRET]: token },
            run: [
              `if [ -n "$${FLY_TOKEN_SECRET}" ]; then`,
              `  echo "present=true" >> "$GITHUB_OUTPUT"`,
              "else",
              `  echo "::warning title=Not deployed::Add the ${FLY_TOKEN_SECRET} secret to deploy on every push (docs/ci.md)"`,
              `  echo "present=false" >> "$GITHUB_OUTPUT"`,
              "fi",
              "",
            ].join("\n"),
          },
          { uses: GITHUB_ACTIONS.setupFlyctl, if: hasToken },
          {
            name: "Deploy with the remote builder",
            if: hasToken,
            run: "flyctl deploy --remote-only",
            env: { [FLY_TOKEN_SECRET]: token },
          },
        ],
      },
    },
  };
}

/** The header of the workflow file: where it came from and what it does. */
export function workflowComment(context: TemplateContext): string {
  return [
    ` CI/CD for ${context.appName}, written by ${context.generator.name} ${context.generator.version} (see docs/ci.md).`,
    " test:   ruff and pytest on every push to main and every pull request.",
    ` deploy: after the tests pass on main, \`flyctl deploy --remote-only\` with the ${FLY_TOKEN_SECRET} secret.`,
  ].join("\n");
}

/**
 * The workflow file: the object above as YAML, with the header. `lineWidth: 0` never folds a
 * long line, so expressions stay on one; `nullStr: ""` writes `pull_request:` with no value.
 */
export function workflowYaml(context: TemplateContext): string {
  const document = new Document(workflow(context));
  document.commentBefore = workflowComment(context);
  return document.toString({ lineWidth: 0, nullStr: "" });
}

export const githubActions: Feature = {
  id: "github-actions",
  description: "GitHub Actions: lint and test every push and pull request, deploy main to Fly.io",
  option: {
    label: "GitHub Actions",
    hint: `tests on every push; deploys main to Fly.io once the ${FLY_TOKEN_SECRET} secret is set`,
    default: true,
  },
  contributes: { docs: { "ci.md": "CI/CD with GitHub Actions" } },
  files: (context) => [{ path: WORKFLOW_PATH, content: workflowYaml(context) }],
};
