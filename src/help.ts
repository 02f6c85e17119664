import { GENERATOR } from "./meta.js";
import { COMMAND_FLAGS, OPTIONS, type OptionDecl } from "./options.js";

function defaultOf(decl: OptionDecl): string {
  if (decl.defaultText) return decl.defaultText;
  const value = decl.default({});
  if (decl.type === "boolean") return value ? "on" : "off";
  return value === undefined || value === "" ? "" : String(value);
}

/** One row per flag, derived from the declarations (also used by docs/options.md). */
export function optionRows(): { flag: string; description: string; default: string; choices: string }[] {
  return OPTIONS.filter((o) => o.key !== "directory").map((o) => ({
    flag: o.type === "boolean" ? `--${o.flag}, --no-${o.flag}` : `--${o.flag} ${o.arg ?? "<value>"}`,
    description: o.description,
    default: defaultOf(o),
    choices: o.type === "choice" ? o.choices.map((c) => c.value).join(", ") : "",
  }));
}

export function helpText(): string {
  const pad = (s: string) => s.padEnd(28);
  const lines = [
    `${GENERATOR.name} ${GENERATOR.version}: a streaming FastAPI AI API with offloaded inference, ready for Fly.io`,
    "",
    "Usage:",
    "  npm create fly-fastapi@latest [directory] -- [options]",
    `  ${GENERATOR.name} [directory] [options]`,
    "",
    "Project options:",
  ];
  for (const row of optionRows()) {
    const suffix = row.default ? ` (default: ${row.default})` : "";
    lines.push(`  ${pad(row.flag)}${row.description}${suffix}`);
    if (row.choices) lines.push(`  ${pad("")}one of: ${row.choices}`);
  }
  lines.push("", "Command options:");
  for (const f of COMMAND_FLAGS) {
    const flag = "short" in f ? `-${f.short}, --${f.flag}` : `    --${f.flag}`;
    lines.push(`  ${pad(flag)}${f.description}`);
  }
  lines.push(
    "",
    "In a terminal, questions are asked for what the flags leave open. Without one (or with CI=true)",
    "nothing is asked: pass --yes to accept the defaults, or every option as a flag.",
    "",
    "Examples:",
    `  npx ${GENERATOR.name} my-api --yes`,
    `  npx ${GENERATOR.name} my-api --provider groq --region fra --yes`,
    `  npx ${GENERATOR.name} my-api --provider custom --base-url https://my-vllm.modal.run/v1 --model my-model --yes`,
  );
  return lines.join("\n");
}
