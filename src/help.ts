import { GENERATOR } from "./meta.js";
import { flagUsage, optionsFor, type Command, type Option, type Scope } from "./options.js";

export interface OptionRow {
  flag: string;
  description: string;
  default: string;
  choices: string;
  scope: Scope;
}

function defaultOf(decl: Option): string {
  if (decl.scope === "run") return "";
  if (decl.defaultText) return decl.defaultText;
  const value = decl.default({});
  if (decl.type === "boolean") return value ? "on" : "off";
  return value === undefined || value === "" ? "" : String(value);
}

/** One row per flag of `command`, derived from the declarations (also used by docs/options.md). */
export function optionRows(command: Command = "create"): OptionRow[] {
  return optionsFor(command).map((o) => ({
    flag: o.short ? `-${o.short}, ${flagUsage(o)}` : flagUsage(o),
    description: o.description,
    default: defaultOf(o),
    choices: o.type === "choice" ? o.choices.map((c) => c.value).join(", ") : "",
    scope: o.scope,
  }));
}

const SECTIONS: Record<Command, Record<Scope, string>> = {
  create: {
    project: "Project options",
    deploy: "Deploy options (with --deploy, or the deploy command; see docs/deploy.md)",
    run: "Command options",
  },
  deploy: {
    project: "Project and app",
    deploy: "Deploy options",
    run: "Command options",
  },
};

const USAGE: Record<Command, string[]> = {
  create: ["npm create fly-fastapi@latest [directory] -- [options]", `${GENERATOR.name} [directory] [options]`, `${GENERATOR.name} deploy [directory] [options]`],
  deploy: [`${GENERATOR.name} deploy [directory] [options]`],
};

export function helpText(command: Command = "create"): string {
  const rows = optionRows(command);
  // The descriptions start in one column, two spaces after the longest flag.
  const width = Math.max(...rows.map((row) => row.flag.length)) + 2;
  const pad = (s: string) => s.padEnd(width);
  const lines = [
    command === "create"
      ? `${GENERATOR.name} ${GENERATOR.version}: a streaming FastAPI AI API with offloaded inference, ready for Fly.io`
      : `${GENERATOR.name} deploy: deploys a project it generated to Fly.io with flyctl, then smoke-tests it (see docs/deploy.md)`,
    "",
    "Usage:",
    ...USAGE[command].map((usage) => `  ${usage}`),
  ];
  for (const scope of ["project", "deploy", "run"] as const) {
    lines.push("", `${SECTIONS[command][scope]}:`);
    for (const row of rows.filter((r) => r.scope === scope)) {
      lines.push(`  ${pad(row.flag)}${row.description}${row.default ? ` (default: ${row.default})` : ""}`);
      if (row.choices) lines.push(`  ${pad("")}one of: ${row.choices}`);
    }
  }
  if (command === "create") {
    lines.push(
      "",
      "In a terminal, questions are asked for what the flags leave open. Without one (or with CI=true)",
      "nothing is asked: pass --yes to accept the defaults, or every option as a flag.",
      "",
      "Examples:",
      `  npx ${GENERATOR.name} my-api --yes`,
      `  npx ${GENERATOR.name} my-api --provider groq --region fra --yes`,
      `  npx ${GENERATOR.name} my-api --provider custom --base-url https://my-vllm.modal.run/v1 --model my-model --yes`,
      `  npx ${GENERATOR.name} my-api --provider groq --deploy --regions fra,sin`,
      `  npx ${GENERATOR.name} deploy my-api`,
    );
  } else {
    lines.push(
      "",
      "The project's options come from [tool.create-fly-fastapi] in its pyproject.toml; its app name and",
      "primary region from fly.toml.",
      "",
      "Examples:",
      `  npx ${GENERATOR.name} deploy my-api`,
      `  npx ${GENERATOR.name} deploy my-api --regions fra,sin --org acme --yes --json`,
    );
  }
  return lines.join("\n");
}

/** docs/options.md, generated from the declarations; a test keeps the file in step. */
export function optionsReference(): string {
  const escape = (s: string) => s.replace(/\|/g, "\\|");
  // Run flags (--yes, --json) have no default worth a column.
  const table = (rows: OptionRow[]) =>
    rows.every((r) => r.scope === "run")
      ? ["| Flag | Description |", "| --- | --- |", ...rows.map((r) => `| \`${escape(r.flag)}\` | ${escape(r.description)} |`)]
      : [
          "| Flag | Description | Default | Choices |",
          "| --- | --- | --- | --- |",
          ...rows.map((r) => `| \`${escape(r.flag)}\` | ${escape(r.description)} | ${r.scope === "run" ? "" : r.default ? escape(r.default) : "none"} | ${escape(r.choices)} |`),
        ];
  const lines = [
    "# Options",
    "",
    "<!-- Generated from src/options.ts by `UPDATE_DOCS=1 npx vitest run test/unit/docs.test.ts`; do not edit by hand. -->",
    "",
    "Every command takes its options from one list of declarations: the same flag means the same",
    "thing in each command, and `--help` of each command shows the tables below.",
    "",
    "## create",
    "",
    "```",
    `${GENERATOR.name} [directory] [options]`,
    "```",
    "",
    "In a terminal every project option without a flag is asked for. Without a terminal, or with",
    "`CI=true`, nothing is asked: `--yes` takes the defaults, otherwise the command fails at once",
    "and names the flags to pass. The generated `pyproject.toml` records every option but the",
    "directory in `[tool.create-fly-fastapi]`, which `deploy` reads.",
  ];
  const create = optionRows("create");
  for (const scope of ["project", "deploy", "run"] as const) {
    lines.push("", `### ${SECTIONS.create[scope].replace(/ \(.*/, "")}`, "");
    if (scope === "deploy") lines.push("With `--deploy` after creating a project (see [deploy.md](deploy.md)).", "");
    lines.push(...table(create.filter((r) => r.scope === scope)));
  }
  lines.push(
    "",
    "## deploy",
    "",
    "```",
    `${GENERATOR.name} deploy [directory] [options]`,
    "```",
    "",
    "Deploys an existing project (see [deploy.md](deploy.md)). It reads the options the project was",
    "created with from `[tool.create-fly-fastapi]` in its `pyproject.toml`, and the app name and",
    "primary region from `fly.toml`.",
    "",
    ...table(optionRows("deploy")),
    "",
    "## Output",
    "",
    "Each run picks one way to show itself, from the flags and the terminal:",
    "",
    "- in a terminal: questions, spinners and notes;",
    "- without one, with `CI=true`, or with `NO_COLOR`: plain lines without escape codes (with",
    "  `NO_COLOR` at a terminal the questions are still asked, without colour);",
    '- with `--json`: exactly one JSON document on stdout, `{"ok": true, ...}` on success or',
    '  `{"ok": false, "error": {"code", "message", "hint"}}` with the same non-zero exit code on a',
    "  failure (a bad flag, no terminal without `--yes`, a non-empty directory, a failed deploy...);",
    "  progress goes to stderr.",
    "",
  );
  return lines.join("\n");
}
