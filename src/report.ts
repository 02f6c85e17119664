import { findProvider } from "./providers.js";
import type { StepResult } from "./install.js";
import type { Plan } from "./plan.js";

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The plan as an indented file tree with sizes, for --dry-run. */
export function planTree(plan: Plan): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const file of plan.files) {
    const parts = file.path.split("/");
    for (let depth = 0; depth < parts.length - 1; depth++) {
      const dir = parts.slice(0, depth + 1).join("/");
      if (!seen.has(dir)) {
        seen.add(dir);
        lines.push(`${"  ".repeat(depth + 1)}${parts[depth]}/`);
      }
    }
    const name = parts[parts.length - 1]!;
    const bytes = Buffer.byteLength(file.content);
    lines.push(`${"  ".repeat(parts.length)}${name.padEnd(Math.max(1, 34 - 2 * parts.length))} ${size(bytes).padStart(9)}`);
  }
  const total = plan.files.reduce((sum, f) => sum + Buffer.byteLength(f.content), 0);
  return [`${plan.options.directory}/`, ...lines, "", `${plan.files.length} files, ${size(total)}`].join("\n");
}

export function planSummary(plan: Plan): string[] {
  const o = plan.options;
  return [
    `app ${o.name} in ${o.region}, provider ${o.provider}${findProvider(o.provider)?.offline ? "" : ` (${o.model})`}, ${o.pythonTool}`,
    `features: ${plan.features.join(", ")}`,
  ];
}

/** The one document --json prints. */
export function jsonReport(
  plan: Plan,
  extra: { dryRun: boolean; directory: string; overwritten: string[]; steps: StepResult[] },
) {
  return {
    ok: true,
    dryRun: extra.dryRun,
    directory: extra.directory,
    options: plan.options,
    features: plan.features,
    files: plan.files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.content) })),
    overwritten: extra.overwritten,
    steps: extra.steps,
    nextSteps: plan.nextSteps,
    command: plan.command,
  };
}
