import { GENERATOR } from "./meta.js";
import { COMMAND_FLAGS, DEPLOY_OPTIONS, OPTIONS, type OptionDecl } from "./options.js";

function defaultOf(decl: OptionDecl): string {
  if (decl.defaultText) return decl.defaultText;
  const value = decl.default({});
  if (decl.type === "boolean") return value ? "on" : "off";
  if (decl.type === "features") return "";
  return value === undefined || value === "" ? "" : String(value);
}

/** One row per deploy flag, derived from DEPLOY_OPTIONS (also used by docs/options.md). */
export function deployOptionRows(): { flag: string; description: string; default: string }[] {
  return DEPLOY_OPTIONS.map((o) => ({
    flag: o.type === "boolean" ? `--${o.flag}, --no-${o.flag}` : `--${o.flag} ${o.arg ?? "<value>"}`,
    description: o.description,
    default: o.type === "boolean" ? (o.default ? "on" : "off") : String(o.default),
  }));
}

/** One row per flag, derived from the declarations (also used by docs/options.md). */
export function optionRows(): { flag: string; description: string; default: string; choices: string }[] {
  return OPTIONS.filter((o) => o.key !== "directory").flatMap((o) =>
    o.type === "features"
      ? // Each optional feature is a flag pair of its own.
        o.choices.map((c) => ({
          flag: `--${c.value}, --no-${c.value}`,
          description: `${c.label}: ${c.hint}`,
          default: c.default ? "on" : "off",
          choices: "",
        }))
      : [
          {
            flag: o.type === "boolean" ? `--${o.flag}, --no-${o.flag}` : `--${o.flag} ${o.arg ?? "<value>"}`,
            description: o.description,
            default: defaultOf(o),
            choices: o.type === "choice" ? o.choices.map((c) => c.value).join(", ") : "",
          },
        ],
  );
}

export function helpText(): string {
  const commandFlag = (f: (typeof COMMAND_FLAGS)[number]) => ("short" in f ? `-${f.short}, --${f.flag}` : `    --${f.flag}`);
  // The descriptions start in one column, two spaces after the longest flag.
  const flags = [...optionRows(), ...deployOptionRows()].map((row) => row.flag).concat(COMMAND_FLAGS.map(commandFlag));
  const width = Math.max(...flags.map((flag) => flag.length)) + 2;
  const pad = (s: string) => s.padEnd(width);
  const lines = [
    `${GENERATOR.name} ${GENERATOR.version}: a streaming FastAPI AI API with offloaded inference, ready for Fly.io`,
    "",
    "Usage:",
    "  npm create fly-fastapi@latest [directory] -- [options]",
    `  ${GENERATOR.name} [directory] [options]`,
    `  ${GENERATOR.name} deploy [directory] [--name <app>] [--org <slug>] [--regions <a,b>] [--yes] [--json]`,
    "",
    "Project options:",
  ];
  for (const row of optionRows()) {
    const suffix = row.default ? ` (default: ${row.default})` : "";
    lines.push(`  ${pad(row.flag)}${row.description}${suffix}`);
    if (row.choices) lines.push(`  ${pad("")}one of: ${row.choices}`);
  }
  lines.push("", "Deploy options (with --deploy, or the deploy command; see docs/deploy.md):");
  for (const row of deployOptionRows()) {
    lines.push(`  ${pad(row.flag)}${row.description}${row.default ? ` (default: ${row.default})` : ""}`);
  }
  lines.push("", "Command options:");
  for (const f of COMMAND_FLAGS) lines.push(`  ${pad(commandFlag(f))}${f.description}`);
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
  return lines.join("\n");
}

/** docs/options.md, generated from the declarations; a test keeps the file in step. */
export function optionsReference(): string {
  const escape = (s: string) => s.replace(/\|/g, "\\|");
  const lines = [
    "# Options",
    "",
    "<!-- Generated from src/options.ts by `UPDATE_DOCS=1 npx vitest run test/unit/docs.test.ts`; do not edit by hand. -->",
    "",
    "```",
    `${GENERATOR.name} [directory] [options]`,
    "```",
    "",
    "In a terminal every project option without a flag is asked for. Without a terminal, or with",
    "`CI=true`, nothing is asked: `--yes` takes the defaults, otherwise the command fails at once",
    "and names the flags to pass.",
    "",
    "## Project options",
    "",
    "| Flag | Description | Default | Choices |",
    "| --- | --- | --- | --- |",
    ...optionRows().map(
      (r) => `| \`${escape(r.flag)}\` | ${escape(r.description)} | ${r.default ? escape(r.default) : "none"} | ${escape(r.choices) || ""} |`,
    ),
    "",
    "## Deploy options",
    "",
    "With `--deploy` after creating a project, or with the `deploy` command on an existing one:",
    "`" + `${GENERATOR.name} deploy [directory]` + "` (see [deploy.md](deploy.md)).",
    "",
    "| Flag | Description | Default |",
    "| --- | --- | --- |",
    ...deployOptionRows().map((r) => `| \`${escape(r.flag)}\` | ${escape(r.description)} | ${r.default ? escape(r.default) : "none"} |`),
    "",
    "## Command options",
    "",
    "| Flag | Description |",
    "| --- | --- |",
    ...COMMAND_FLAGS.map((f) => `| \`${"short" in f ? `-${f.short}, ` : ""}--${f.flag}\` | ${f.description} |`),
    "",
  ];
  return lines.join("\n");
}
