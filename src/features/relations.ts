import { UserError } from "../errors.js";
import type { Feature } from "./types.js";

/** The feature every other one builds on: it comes first (its routes, /healthz first, are matched first). */
export const BASE_FEATURE = "core";

const flag = (feature: Feature) => (feature.option ? `--${feature.id}` : feature.id);
const off = (feature: Feature) => (feature.option ? `--no-${feature.id}` : undefined);

/**
 * Checks the relations of the enabled features and orders them: a feature comes after the
 * features it names in `after` or `requires` (when enabled), ties broken by id, so the order
 * never depends on where a feature is declared. A missing requirement, a conflict or a cycle
 * is a one-line error that names the features and the flag that fixes it.
 */
export function orderFeatures(enabled: readonly Feature[], known: readonly Feature[] = enabled): Feature[] {
  const byId = new Map(enabled.map((f) => [f.id, f]));
  for (const feature of enabled) {
    for (const relation of ["after", "requires", "conflicts"] as const) {
      const unknown = feature[relation]?.find((id) => !known.some((f) => f.id === id));
      if (unknown !== undefined) throw new Error(`feature ${feature.id} names ${unknown} in "${relation}", and no feature has that id`);
    }
    for (const id of feature.requires ?? []) {
      if (byId.has(id)) continue;
      const required = known.find((f) => f.id === id)!;
      const fixes = [required.option ? `add --${id}` : undefined, off(feature) ? `pass ${off(feature)}` : undefined].filter(Boolean);
      throw new UserError(`${flag(feature)} needs ${flag(required)}`, fixes.join(", or ") || undefined);
    }
    for (const id of feature.conflicts ?? []) {
      const other = byId.get(id);
      if (!other) continue;
      const fixes = [off(other), off(feature)].filter(Boolean).map((f) => `pass ${f}`);
      throw new UserError(`${flag(feature)} and ${flag(other)} cannot be used together`, fixes.join(", or ") || undefined);
    }
  }
  const before = new Map<string, Set<string>>();
  for (const feature of enabled) {
    const implied = feature.id === BASE_FEATURE ? [] : [BASE_FEATURE];
    const names = [...implied, ...(feature.after ?? []), ...(feature.requires ?? [])];
    before.set(feature.id, new Set(names.filter((id) => id !== feature.id && byId.has(id))));
  }
  const ordered: Feature[] = [];
  const placed = new Set<string>();
  while (ordered.length < enabled.length) {
    const ready = enabled
      .filter((f) => !placed.has(f.id) && [...before.get(f.id)!].every((id) => placed.has(id)))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const next = ready[0];
    if (!next) {
      const cycle = findCycle(enabled.filter((f) => !placed.has(f.id)), before);
      const fixes = cycle.map(off).filter(Boolean).map((f) => `pass ${f}`);
      throw new UserError(
        `features ${cycle.map((f) => f.id).join(", ")} each come after another of them (a cycle in their "after" or "requires")`,
        fixes.join(", or ") || undefined,
      );
    }
    ordered.push(next);
    placed.add(next.id);
  }
  return ordered;
}

/** Among features none of which can be placed, the ones that form a cycle, by following what each comes after. */
function findCycle(stuck: readonly Feature[], before: ReadonlyMap<string, ReadonlySet<string>>): Feature[] {
  const byId = new Map(stuck.map((f) => [f.id, f]));
  const path: Feature[] = [];
  let current = stuck[0]!;
  while (!path.includes(current)) {
    path.push(current);
    current = [...before.get(current.id)!].flatMap((id) => byId.get(id) ?? [])[0]!;
  }
  return path.slice(path.indexOf(current));
}
