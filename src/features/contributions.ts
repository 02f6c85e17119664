import type { Contributions, Feature } from "./types.js";

/** How each kind of contribution merges: a list (its items are their keys) or a record by key. */
const KINDS = {
  dependencies: "record",
  devDependencies: "record",
  settings: "record",
  flyEnv: "record",
  flySections: "record",
  dockerfile: "record",
  routers: "list",
  middleware: "list",
  lifespans: "record",
  settingChecks: "list",
  apiDependencies: "list",
  apiResponses: "record",
  exceptionHandlers: "record",
  publicPaths: "list",
  unmeteredPaths: "list",
  errorCodes: "record",
  schemaFields: "record",
  readinessChecks: "record",
  clientHeaders: "record",
  secrets: "record",
  provisioning: "record",
  nextSteps: "record",
  tips: "record",
  docs: "record",
  readme: "record",
} as const satisfies Record<keyof Contributions, "list" | "record">;

/** Every kind present: lists as arrays, records as records, in feature order. */
export type MergedContributions = {
  [K in keyof Contributions]-?: NonNullable<Contributions[K]> extends readonly (infer T)[]
    ? T[]
    : NonNullable<Contributions[K]> extends Readonly<Record<string, infer V>>
      ? Record<string, V>
      : never;
};

/**
 * The features' contributions merged by key, in the order of `features`. A key that two
 * features contribute to the same kind is an error naming both: neither may silently win.
 */
export function mergeContributions(features: readonly Feature[]): MergedContributions {
  const merged: Record<string, unknown[] | Record<string, unknown>> = {};
  for (const [kind, shape] of Object.entries(KINDS)) merged[kind] = shape === "list" ? [] : {};
  const owners = new Map<string, string>();
  for (const feature of features) {
    for (const [kind, keys] of Object.entries(feature.owns ?? {})) {
      for (const key of keys ?? []) owners.set(`${kind}\u0000${key}`, feature.id);
    }
  }
  for (const feature of features) {
    for (const [kind, value] of Object.entries(feature.contributes ?? {})) {
      const shape = KINDS[kind as keyof Contributions];
      if (shape === undefined) throw new Error(`feature ${feature.id} contributes ${kind}, which no shared file reads`);
      if (value === undefined) continue;
      const entries: [string, unknown][] = shape === "list" ? (value as string[]).map((item) => [item, item]) : Object.entries(value as object);
      for (const [key, item] of entries) {
        const slot = `${kind}\u0000${key}`;
        const owner = owners.get(slot);
        if (owner !== undefined) {
          throw new Error(`features ${owner} and ${feature.id} both contribute ${kind} "${key}": a key belongs to one feature`);
        }
        owners.set(slot, feature.id);
        const target = merged[kind]!;
        if (Array.isArray(target)) target.push(item);
        else target[key] = item;
      }
    }
  }
  return merged as MergedContributions;
}

/** PEP 503 normalised name of a requirement such as "uvicorn[standard]==0.54.0". */
export const requirementName = (requirement: string) =>
  requirement.split(/[\[=<>!~; ]/, 1)[0]!.toLowerCase().replace(/[-_.]+/g, "-");

/** Requirements keyed by their distribution names, as `dependencies` contributions are. */
export const byDistribution = (requirements: readonly string[]): Record<string, string> =>
  Object.fromEntries(requirements.map((requirement) => [requirementName(requirement), requirement]));
