import * as p from "@clack/prompts";
import { UserError } from "../errors.js";
import { GENERATOR } from "../meta.js";
import { DEPLOY_OPTIONS, type DeployOptionDecl, type DeployOptions } from "../options.js";
import { REGIONS } from "../regions.js";

/** A value that works, shown in the hint of a rejected deploy flag. */
const EXAMPLES: Record<keyof DeployOptions, string> = { deploy: "--deploy", org: "--org personal", regions: "--regions fra,sin" };

/** Rejects bad deploy flags; call before asking anything. */
export function checkDeployFlags(given: Partial<DeployOptions>): void {
  for (const decl of DEPLOY_OPTIONS) {
    const value = given[decl.key];
    const error = typeof value === "string" ? decl.validate?.(value) : undefined;
    if (error) throw new UserError(error, `for example ${EXAMPLES[decl.key]}; every option: ${GENERATOR.name} --help`);
  }
}

export type AskDeployOption = (decl: DeployOptionDecl, answers: Partial<DeployOptions>) => Promise<boolean | string>;

/** Flags first; then, in a terminal, the declared questions; then the defaults. */
export async function resolveDeployOptions(given: Partial<DeployOptions>, ask?: AskDeployOption): Promise<DeployOptions> {
  checkDeployFlags(given);
  const resolved: Record<string, boolean | string> = {};
  for (const decl of DEPLOY_OPTIONS) {
    const asked = ask !== undefined && decl.prompt !== undefined && (decl.askWhen?.(resolved as Partial<DeployOptions>) ?? true);
    resolved[decl.key] = given[decl.key] ?? (asked ? await ask(decl, resolved as Partial<DeployOptions>) : decl.default);
  }
  return resolved as unknown as DeployOptions;
}

/** "fra, sin" → ["fra", "sin"], without the primary region and repeats. */
export function extraRegions(regions: string, primary: string | undefined): string[] {
  const codes = regions.split(",").map((code) => code.trim()).filter(Boolean);
  return [...new Set(codes)].filter((code) => code !== primary);
}

/** The regions besides `primary`, grouped by continent for the multiselect: "fra · Frankfurt, Germany". */
export function regionGroups(primary?: string): Record<string, { value: string; label: string }[]> {
  const groups: Record<string, { value: string; label: string }[]> = {};
  for (const region of REGIONS) {
    if (region.code === primary) continue;
    (groups[region.area] ??= []).push({ value: region.code, label: `${region.code} · ${region.city}` });
  }
  return groups;
}

/** Asks a deploy option in a terminal; `primary` (the project's primary region) is left out of the regions. */
export function askDeployWithClack(primary?: string): AskDeployOption {
  return async (decl) => {
    const answer =
      decl.type === "boolean"
        ? await p.confirm({ message: decl.prompt!, initialValue: decl.default as boolean })
        : decl.key === "regions"
          ? await p.groupMultiselect<string>({
              message: decl.prompt!,
              options: regionGroups(primary),
              required: false,
              // A whole continent at once would start many Machines: pick cities one by one.
              selectableGroups: false,
              maxItems: 14,
            })
          : await p.text({ message: decl.prompt!, defaultValue: String(decl.default), validate: (v) => decl.validate?.(v ?? "") });
    if (p.isCancel(answer)) {
      p.cancel("Cancelled: nothing was written.");
      process.exit(1);
    }
    return Array.isArray(answer) ? answer.join(",") : answer;
  };
}
