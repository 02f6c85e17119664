import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { applyPatch, structuredPatch } from "diff";
import { execa } from "execa";
import { diff3Merge as diff3MergeRegions, merge as diff3Merge } from "node-diff3";
import { parse, stringify } from "smol-toml";
import { requirementName } from "./features/contributions.js";

/**
 * Three-way merges of one project file: the base (what the generator wrote for the recorded
 * options and version), ours (the file on disk) and theirs (the new rendering).
 */

/** What happens to one file of the project. */
export type FileAction =
  /** The new rendering has it, the project did not: written. */
  | "added"
  /** Untouched by its owner: replaced by the new rendering. */
  | "updated"
  /** Both changed it: merged without a conflict. */
  | "merged"
  /** Both changed the same lines: written with conflict markers. */
  | "conflict"
  /** Only its owner changed it (or the new rendering is the same): left as it is. */
  | "kept"
  /** No longer generated and untouched by its owner: deleted. */
  | "removed"
  /** No longer generated, but changed by its owner: left in place. */
  | "kept-changed"
  /** Deleted by its owner, and the new rendering changes it: written again. */
  | "restored"
  /** Deleted by its owner and unchanged by the new rendering: stays deleted. */
  | "stays-deleted";

export interface FileMerge {
  path: string;
  action: FileAction;
  /** The file on disk now (undefined: absent). */
  before: string | undefined;
  /** The file after the run (undefined: absent). */
  after: string | undefined;
}

export interface Labels {
  ours: string;
  base: string;
  theirs: string;
}

let gitChecked: Promise<boolean> | undefined;
/** git merge-file where git is installed: the same merge, markers and labels git itself gives. */
const hasGit = () => (gitChecked ??= execa("git", ["--version"], { reject: false }).then((r) => r.exitCode === 0, () => false));

/**
 * A line merge like `git merge-file -p`: the merged text and whether it holds conflict markers.
 * `union` (git's --union) keeps both sides' lines of a conflict instead, ours first.
 */
export async function mergeText(base: string, ours: string, theirs: string, labels: Labels, union = false): Promise<{ text: string; conflict: boolean }> {
  if (await hasGit()) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "cff-merge-"));
    try {
      const files = { ours: path.join(dir, "ours"), base: path.join(dir, "base"), theirs: path.join(dir, "theirs") };
      await Promise.all([writeFile(files.ours, ours), writeFile(files.base, base), writeFile(files.theirs, theirs)]);
      const args = ["merge-file", "-p", ...(union ? ["--union"] : []), "-L", labels.ours, "-L", labels.base, "-L", labels.theirs, files.ours, files.base, files.theirs];
      const result = await execa("git", args, { reject: false, stripFinalNewline: false });
      // The exit code is the number of conflicts; a negative one (255 here) is a failure.
      if (result.exitCode === undefined || result.exitCode < 0 || result.exitCode > 127) throw new Error(`git merge-file failed: ${result.stderr}`);
      return { text: result.stdout, conflict: result.exitCode > 0 };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return diff3Text(base, ours, theirs, labels, union);
}

/** The same merge without git, by node-diff3 (no native code, the diff3 algorithm git's is based on). */
export function diff3Text(base: string, ours: string, theirs: string, labels: Labels, union = false): { text: string; conflict: boolean } {
  if (union) {
    const regions = diff3MergeRegions(ours, base, theirs, { stringSeparator: "\n" });
    return { text: regions.flatMap((r) => (r.ok ? r.ok : [...r.conflict!.a, ...r.conflict!.b])).join("\n"), conflict: false };
  }
  const merged = diff3Merge(ours, base, theirs, { stringSeparator: "\n", label: { a: labels.ours, o: labels.base, b: labels.theirs } });
  return { text: merged.result.join("\n"), conflict: merged.conflict };
}

type Toml = Record<string, unknown>;
/** Equal as data: smol-toml's tables have no prototype, the merged ones do. */
const same = (a: unknown, b: unknown) => isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));
const isTable = (value: unknown): value is Toml => typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);

/**
 * A list of strings (dependencies, ruff's rules...) merged item by item, an item known by its
 * requirement name: the owner's items and versions stay, the new rendering's additions join,
 * and what it dropped goes only where the owner left it as generated.
 */
function mergeStringList(base: string[], ours: string[], theirs: string[]): string[] {
  const key = (item: string) => requirementName(item) || item;
  const baseBy = new Map(base.map((item) => [key(item), item]));
  const theirsBy = new Map(theirs.map((item) => [key(item), item]));
  const result: string[] = [];
  for (const item of ours) {
    const k = key(item);
    const wasGenerated = baseBy.get(k) === item;
    if (wasGenerated && !theirsBy.has(k)) continue;
    result.push(wasGenerated ? theirsBy.get(k)! : item);
  }
  // Each new item goes after the one it follows in the new rendering (the first place otherwise).
  theirs.forEach((item, index) => {
    if (baseBy.has(key(item)) || result.some((r) => key(r) === key(item))) return;
    const before = theirs.slice(0, index).reverse().find((prior) => result.some((r) => key(r) === key(prior)));
    result.splice(before === undefined ? 0 : result.findIndex((r) => key(r) === key(before)) + 1, 0, item);
  });
  return result;
}

const stringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === "string");

/** One TOML value merged three ways; where both changed it differently, the owner's value stays. */
export function mergeValue(base: unknown, ours: unknown, theirs: unknown): unknown {
  if (same(ours, base)) return theirs;
  if (same(theirs, base) || same(ours, theirs)) return ours;
  if (isTable(ours) && isTable(theirs)) {
    const baseTable = isTable(base) ? base : {};
    const result: Toml = {};
    for (const key of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
      const value = mergeValue(baseTable[key], ours[key], theirs[key]);
      if (value !== undefined) result[key] = value;
    }
    return result;
  }
  if (stringList(ours) && stringList(theirs)) return mergeStringList(stringList(base) ? base : [], ours, theirs);
  return ours;
}

/**
 * pyproject.toml and fly.toml, merged by their structure with smol-toml. The line merge's text is
 * kept when it reads as the same document (so the owner's comments and layout stay); otherwise
 * the merged document is written out by smol-toml.
 */
export async function mergeToml(base: string, ours: string, theirs: string, labels: Labels): Promise<{ text: string; conflict: boolean }> {
  let parsed: [Toml, Toml, Toml];
  try {
    parsed = [parse(base), parse(ours), parse(theirs)];
  } catch {
    // The owner's file does not parse: merged as lines, so nothing of it is lost.
    return mergeText(base, ours, theirs, labels);
  }
  const merged = mergeValue(...parsed) as Toml;
  // Texts that keep the owner's layout, tried in turn; the first that reads as the merged
  // structure is written: the line merge; the one keeping both sides of each conflict (two
  // additions at the end of one list); the new rendering's changes as a patch, with one line of
  // context, then none (an addition next to a line the owner changed).
  const patch = (context: number) => async () => {
    const patched = applyPatch(ours, structuredPatch("a", "b", base, theirs, "", "", { context }));
    return { text: patched === false ? "" : patched, conflict: patched === false };
  };
  const candidates = [
    async () => mergeText(base, ours, theirs, labels),
    async () => mergeText(base, ours, theirs, labels, true),
    patch(1),
    // By line numbers alone: right when the owner's edits kept the lines where they were.
    patch(0),
    async () => ({ text: insertListItems(ours, parsed[1], merged), conflict: false }),
  ];
  for (const candidate of candidates) {
    const lines = await candidate();
    if (lines.conflict) continue;
    try {
      if (same(parse(lines.text), merged)) return lines;
    } catch {
      // That text does not parse: try the next.
    }
  }
  return { text: stringify(merged) + "\n", conflict: false };
}

/** Every list of strings of `merged` that is the owner's list plus new items, by its path. */
function addedItems(ours: unknown, merged: unknown, found: { list: string[]; added: string[] }[] = []) {
  if (isTable(ours) && isTable(merged)) for (const key of Object.keys(merged)) addedItems(ours[key], merged[key], found);
  else if (stringList(ours) && stringList(merged)) {
    const added = merged.filter((item) => !ours.includes(item));
    if (added.length > 0 && ours.every((item) => merged.includes(item))) found.push({ list: merged, added });
  }
  return found;
}

/**
 * The owner's text with the new items of its one-per-line string lists (dependencies) inserted
 * after the item they follow, in that line's indentation: an addition next to a pin the owner changed.
 */
function insertListItems(ours: string, oursData: Toml, merged: Toml): string {
  const lines = ours.split("\n");
  for (const { list, added } of addedItems(oursData, merged)) {
    for (const item of added) {
      const previous = list[list.indexOf(item) - 1];
      const at = previous === undefined ? -1 : lines.findIndex((line) => line.trim() === `${JSON.stringify(previous)},`);
      if (at < 0) return ours;
      lines.splice(at + 1, 0, `${/^\s*/.exec(lines[at]!)![0]}${JSON.stringify(item)},`);
    }
  }
  return lines.join("\n");
}

const envKey = (line: string) => /^\s*([A-Za-z_][A-Za-z0-9_]*)=/.exec(line)?.[1];

/**
 * .env.example: the owner's rows stay; the rows the new rendering adds join at the end with the
 * comment lines just above them; rows it dropped go where the owner left them as generated.
 */
export async function mergeEnv(base: string, ours: string, theirs: string, labels: Labels): Promise<{ text: string; conflict: boolean }> {
  const lines = await mergeText(base, ours, theirs, labels);
  if (!lines.conflict) return lines;
  const rows = (text: string) => new Map(text.split("\n").flatMap((line) => (envKey(line) ? [[envKey(line)!, line] as const] : [])));
  const baseRows = rows(base);
  const theirsRows = rows(theirs);
  const kept = ours.split("\n").filter((line) => {
    const key = envKey(line);
    return !key || theirsRows.has(key) || baseRows.get(key) !== line;
  });
  const oursKeys = new Set(kept.flatMap((line) => (envKey(line) ? [envKey(line)!] : [])));
  const added: string[] = [];
  const theirsLines = theirs.split("\n");
  theirsLines.forEach((line, index) => {
    const key = envKey(line);
    if (!key || baseRows.has(key) || oursKeys.has(key)) return;
    let start = index;
    while (start > 0 && theirsLines[start - 1]!.startsWith("#")) start--;
    added.push(...theirsLines.slice(start, index + 1));
  });
  while (kept.length > 0 && kept[kept.length - 1] === "") kept.pop();
  return { text: [...kept, ...(added.length ? ["", ...added] : []), ""].join("\n"), conflict: false };
}

/** The merge of one file, by its kind. */
export async function mergeFile(file: string, base: string | undefined, ours: string | undefined, theirs: string | undefined, labels: Labels): Promise<FileMerge> {
  const result = (action: FileAction, after: string | undefined): FileMerge => ({ path: file, action, before: ours, after });
  if (ours === undefined) {
    if (theirs === undefined) return result("stays-deleted", undefined);
    if (base === undefined) return result("added", theirs);
    return theirs === base ? result("stays-deleted", undefined) : result("restored", theirs);
  }
  if (theirs === undefined) return base !== undefined && ours === base ? result("removed", undefined) : result("kept-changed", ours);
  if (ours === theirs) return result("kept", ours);
  if (base !== undefined && ours === base) return result("updated", theirs);
  if (base !== undefined && theirs === base) return result("kept", ours);
  // Both changed it (or the owner wrote a file of the same name the generator now writes).
  const merge = file === "pyproject.toml" || file === "fly.toml" ? mergeToml : file === ".env.example" ? mergeEnv : mergeText;
  const merged = await merge(base ?? "", ours, theirs, labels);
  return result(merged.conflict ? "conflict" : merged.text === ours ? "kept" : "merged", merged.text);
}
