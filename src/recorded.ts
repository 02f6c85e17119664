import { parse, stringify } from "smol-toml";
import { UserError } from "./errors.js";
import { GENERATOR } from "./meta.js";
import { OPTIONS, type DeployOptions, type Option, type ProjectOptions } from "./options.js";
import { resolve, type Given } from "./resolve.js";

/**
 * `[tool.create-fly-fastapi]` of a generated pyproject.toml: the generator's version and every
 * resolved option but the directory (none is a secret), keyed by flag. Written with smol-toml;
 * read back through the same declarations, so each value passes its option's check again.
 */
export const TABLE = "create-fly-fastapi";

/** The options a project records: every project and deploy option but the directory and `--deploy`. */
export const RECORDED_OPTIONS: readonly Option[] = OPTIONS.filter((o) => o.scope !== "run" && o.record !== false && o.commands.includes("create"));

type Recorded = Partial<ProjectOptions & DeployOptions>;

/** The recorded values as TOML values: a list as an array, an empty value left out, a group as a table. */
function toToml(options: Recorded): Record<string, unknown> {
  const table: Record<string, unknown> = { version: GENERATOR.version };
  const groups: Record<string, Record<string, boolean>> = {};
  for (const decl of RECORDED_OPTIONS) {
    if (decl.group) {
      const on = (options[decl.group] as Record<string, boolean> | undefined)?.[decl.key];
      if (on !== undefined) (groups[decl.group] ??= {})[decl.key] = on;
      continue;
    }
    // A deploy option not chosen (a project planned without a deploy) records its default.
    const value = options[decl.key as keyof Recorded] ?? (decl.scope === "deploy" ? decl.default(options) : undefined);
    if (value === undefined || value === "") continue;
    table[decl.flag] = decl.type === "list" ? String(value).split(",").map((item) => item.trim()).filter(Boolean) : value;
  }
  return { ...table, ...groups };
}

/** The `[tool.create-fly-fastapi]` table as TOML text. */
export function recordedTable(options: Recorded): string {
  return stringify({ tool: { [TABLE]: toToml(options) } });
}

/** A pyproject.toml's recorded table, or undefined when it has none (or it does not parse). */
export function findRecorded(pyproject: string): Record<string, unknown> | undefined {
  try {
    const tool = (parse(pyproject) as { tool?: Record<string, unknown> }).tool;
    const table = tool?.[TABLE];
    return table && typeof table === "object" && !Array.isArray(table) ? (table as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** TOML values back to given values: an array to "a,b", a group table to its record. */
function fromToml(table: Record<string, unknown>): { given: Given; missing: string[] } {
  const given: Given = {};
  const missing: string[] = [];
  for (const decl of RECORDED_OPTIONS) {
    if (decl.group) {
      // A feature the project does not record was not part of it.
      const group = table[decl.group];
      const on = group && typeof group === "object" ? (group as Record<string, unknown>)[decl.flag] : undefined;
      ((given[decl.group] ??= {}) as Record<string, unknown>)[decl.key] = on ?? false;
      continue;
    }
    const value = table[decl.flag];
    if (value === undefined) {
      // Left out when empty (the base URL of mock); the deploy's take their defaults (an older
      // generator did not record them); any other project option must be there.
      if (decl.scope === "project" && decl.type !== "boolean" && decl.key !== "baseUrl") missing.push(decl.flag);
      continue;
    }
    given[decl.key] = decl.type === "list" && Array.isArray(value) ? value.map(String).join(",") : value;
  }
  return { given, missing };
}

/** The flags a recorded table should name but does not (an older generator recorded only the features). */
export function missingRecorded(table: Record<string, unknown>): string[] {
  return fromToml(table).missing;
}

/**
 * The options recorded in a project, each value checked by its declaration. Throws a one-line
 * UserError naming the file and key when a value is missing or wrong.
 */
export async function readRecorded(table: Record<string, unknown>, file: string): Promise<ProjectOptions & DeployOptions> {
  const { given, missing } = fromToml(table);
  if (missing.length > 0) {
    throw new UserError(
      `${file}: [tool.${TABLE}] does not record ${missing.map((key) => `"${key}"`).join(", ")}`,
      `add the missing keys (see docs/options.md), or re-create the project with the command its README prints`,
      "recorded_options_incomplete",
    );
  }
  try {
    const resolved = await resolve(RECORDED_OPTIONS, given, { kind: "defaults" }, { command: "deploy" });
    return { directory: "", ...resolved } as unknown as ProjectOptions & DeployOptions;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    throw new UserError(`${file}: [tool.${TABLE}]: ${error.message}`, `fix the value in ${file}, or re-create the project with the command its README prints`, "recorded_options_invalid");
  }
}
