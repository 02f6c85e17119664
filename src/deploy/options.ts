import { DEPLOY_OPTIONS, type Answers, type DeployOptions } from "../options.js";
import { resolve, type Given, type Mode } from "../resolve.js";

/** The deploy options of `create --deploy`, by the one resolver: flags, then answers or defaults. */
export async function resolveDeployOptions(given: Partial<DeployOptions>, mode: Mode = { kind: "defaults" }, known: Answers = {}): Promise<DeployOptions> {
  return (await resolve(DEPLOY_OPTIONS, given as Given, mode, { known })) as unknown as DeployOptions;
}

/** "fra, sin" → ["fra", "sin"], without the primary region and repeats. */
export function extraRegions(regions: string, primary: string | undefined): string[] {
  const codes = regions.split(",").map((code) => code.trim()).filter(Boolean);
  return [...new Set(codes)].filter((code) => code !== primary);
}
