import * as p from "@clack/prompts";
import { UserError } from "../errors.js";
import { DEPLOY_OPTIONS, type DeployOptionDecl, type DeployOptions } from "../options.js";

/** Rejects bad deploy flags; call before asking anything. */
export function checkDeployFlags(given: Partial<DeployOptions>): void {
  for (const decl of DEPLOY_OPTIONS) {
    const value = given[decl.key];
    const error = typeof value === "string" ? decl.validate?.(value) : undefined;
    if (error) throw new UserError(error);
  }
}

export type AskDeployOption = (decl: DeployOptionDecl) => Promise<boolean | string>;

/** Flags first; then, in a terminal, the declared questions; then the defaults. */
export async function resolveDeployOptions(given: Partial<DeployOptions>, ask?: AskDeployOption): Promise<DeployOptions> {
  checkDeployFlags(given);
  const resolved: Record<string, boolean | string> = {};
  for (const decl of DEPLOY_OPTIONS) {
    resolved[decl.key] = given[decl.key] ?? (ask && decl.prompt ? await ask(decl) : decl.default);
  }
  return resolved as unknown as DeployOptions;
}

/** "fra, sin" → ["fra", "sin"], without the primary region and repeats. */
export function extraRegions(regions: string, primary: string | undefined): string[] {
  const codes = regions.split(",").map((code) => code.trim()).filter(Boolean);
  return [...new Set(codes)].filter((code) => code !== primary);
}

export const askDeployWithClack: AskDeployOption = async (decl) => {
  const answer =
    decl.type === "boolean"
      ? await p.confirm({ message: decl.prompt!, initialValue: decl.default as boolean })
      : await p.text({ message: decl.prompt!, defaultValue: String(decl.default), validate: (v) => decl.validate?.(v ?? "") });
  if (p.isCancel(answer)) {
    p.cancel("Cancelled: nothing was written.");
    process.exit(1);
  }
  return answer;
};
