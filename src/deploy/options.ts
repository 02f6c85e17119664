import { UserError } from "../errors.js";
import { GENERATOR } from "../meta.js";
import { DEPLOY_OPTIONS, type DeployOptionDecl, type DeployOptions } from "../options.js";

/** A value that works, shown in the hint of a rejected deploy flag. */
const EXAMPLES: Record<keyof DeployOptions, string> = { deploy: "--deploy", org: "--org personal", regions: "--regions fra,sin", ha: "--no-ha" };

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
