import * as p from "@clack/prompts";
import { REGIONS } from "../regions.js";
import type { AskDeployOption } from "./options.js";

// The deploy questions, apart from src/deploy/options.ts: a run that asks nothing does not load
// the prompts (see src/on-demand.ts).

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
