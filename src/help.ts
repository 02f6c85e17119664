import { FEATURES, alwaysProvisioned } from "./features/index.js";
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
    // upgrade keeps what the project records unless a flag changes it.
    default: command === "upgrade" && o.scope === "project" && o.key !== "directory" ? "as recorded" : defaultOf(o),
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
  add: { project: "Project", deploy: "Deploy options", run: "Command options" },
  remove: { project: "Project", deploy: "Deploy options", run: "Command options" },
  upgrade: { project: "Options to change in the same step (the others keep their recorded values)", deploy: "Deploy options", run: "Command options" },
};

const USAGE: Record<Command, string[]> = {
  create: ["npm create fly-fastapi@latest [directory] -- [options]", `${GENERATOR.name} [directory] [options]`, `${GENERATOR.name} deploy [directory] [options]`],
  deploy: [`${GENERATOR.name} deploy [directory] [options]`],
  add: [`${GENERATOR.name} add <feature...> [directory] [options]`],
  remove: [`${GENERATOR.name} remove <feature...> [directory] [options]`],
  upgrade: [`${GENERATOR.name} upgrade [directory] [options]`],
};

/** What each command does, the first line of its --help and its section of docs/options.md. */
const PURPOSE: Record<Command, string> = {
  create: `${GENERATOR.name} ${GENERATOR.version}: a streaming FastAPI AI API with offloaded inference, ready for Fly.io`,
  deploy: `${GENERATOR.name} deploy: deploys a project it generated to Fly.io with flyctl, then smoke-tests it (see docs/deploy.md)`,
  add: `${GENERATOR.name} add: turns features on in a project it generated, keeping every edit of its owner (see docs/update.md)`,
  remove: `${GENERATOR.name} remove: turns features off in a project it generated, where they can be removed cleanly (see docs/update.md)`,
  upgrade: `${GENERATOR.name} upgrade: moves a project it generated to this version, keeping every edit of its owner (see docs/update.md)`,
};

/** The features `add` and `remove` name: the optional ones. */
const featureList = () => optionsFor("upgrade").filter((o) => o.group === "features").map((o) => o.flag).join(", ");

/** Which features `remove` refuses, and why. */
const NOT_REMOVABLE = [
  "Not removable cleanly, so refused: a feature another one that stays requires, and one whose",
  `deploy provisions something on Fly (${FEATURES.filter((f) => alwaysProvisioned(f).length > 0).map((f) => f.id).join(", ") || "none in this version"}), which removing its code would not undo.`,
];

const UPDATE_NOTES = [
  "Each file is merged three ways: what this generator wrote for the recorded options (the base), the",
  "file on disk, and the new rendering. A file only the generator changed is replaced, one only you",
  "changed is kept, one both changed is merged (pyproject.toml and fly.toml by their TOML structure);",
  "a conflict leaves standard markers in that file, lists it and exits with 1. Nothing is written",
  "unless every file can be, and a git work tree with uncommitted changes is refused without --force.",
];

export function helpText(command: Command = "create"): string {
  const rows = optionRows(command);
  // The descriptions start in one column, two spaces after the longest flag.
  const width = Math.max(...rows.map((row) => row.flag.length)) + 2;
  const pad = (s: string) => s.padEnd(width);
  const lines = [
    PURPOSE[command],
    "",
    "Usage:",
    ...USAGE[command].map((usage) => `  ${usage}`),
  ];
  for (const scope of ["project", "deploy", "run"] as const) {
    if (!rows.some((r) => r.scope === scope)) continue;
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
  } else if (command !== "deploy") {
    lines.push("", ...UPDATE_NOTES, "", `Features: ${featureList()}`);
    if (command === "remove") lines.push(...NOT_REMOVABLE);
    lines.push("", "Examples:");
    if (command === "add") lines.push(`  npx ${GENERATOR.name} add mcp my-api`, `  npx ${GENERATOR.name} add gateway ratelimit --dry-run`);
    if (command === "remove") lines.push(`  npx ${GENERATOR.name} remove mcp my-api --yes`);
    if (command === "upgrade") lines.push(`  npx ${GENERATOR.name}@latest upgrade my-api --dry-run`, `  npx ${GENERATOR.name}@latest upgrade my-api --provider groq --yes --json`);
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
  );
  for (const command of ["add", "remove", "upgrade"] as const) {
    lines.push("", `## ${command}`, "", "```", USAGE[command][0]!, "```", "", `${PURPOSE[command].replace(/ \(see .*/, "").replace(/^.*?: (.)/, (_, first: string) => first.toUpperCase())}.`, "");
    const rows = optionRows(command);
    for (const scope of ["project", "run"] as const) {
      if (rows.some((r) => r.scope === scope)) lines.push(`### ${SECTIONS[command][scope]}`, "", ...table(rows.filter((r) => r.scope === scope)), "");
    }
    lines.pop();
  }
  lines.push("", ...UPDATE_NOTES, "", `Features \`add\` and \`remove\` take: ${featureList()}.`, ...NOT_REMOVABLE, "", "See [update.md](update.md).");
  lines.push(
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
