import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import { execa } from "execa";
import { parse as parseToml } from "smol-toml";
import type { ParsedArgs } from "../args.js";
import { readRecordedOptions } from "../deploy/project.js";
import { extraRegions } from "../deploy/options.js";
import { serviceName, serviceWork, type ServiceNeed } from "../deploy/services.js";
import { shellPath } from "../escape.js";
import { UserError } from "../errors.js";
import { FEATURES, OPTIONAL_FEATURES, alwaysProvisioned, isEnabled, provisionedOnRequest, type Feature } from "../features/index.js";
import { mergeContributions } from "../features/contributions.js";
import { GENERATOR } from "../meta.js";
import { mergeFile, type FileMerge } from "../merge.js";
import { GROUPS, optionFor, optionsFor, flagUsage, type DeployOptions, type Option, type ProjectOptions, type UpdateCommand } from "../options.js";
import type { Plan, PlanExtras, PlannedFile } from "../plan.js";
import { findRecorded } from "../recorded.js";
import { resolve, type Given } from "../resolve.js";
import type { Ui } from "../ui.js";
import type { FileChange, PrepareChanges } from "../write.js";
import type { CommandModule, CommandResult } from "./types.js";

/**
 * `add`, `remove` and `upgrade`: the project is rendered twice, for the options and version it
 * records (the base) and for the new options with this version (theirs), and each file is merged
 * three ways with the one on disk (src/merge.ts). Everything is written at once, or nothing.
 */

/** Names the package `upgrade` runs to re-render an older version (a tarball in the tests). */
export const BASE_PACKAGE_ENV = "CREATE_FLY_FASTAPI_BASE_PACKAGE";

export interface UpdateRequest {
  command: UpdateCommand;
  dir: string;
  /** The recorded options and the raw table they were read from. */
  recorded: ProjectOptions & DeployOptions;
  recordedTable: Record<string, unknown>;
  recordedVersion: string;
  options: ProjectOptions;
  /** The features this run turns on or off. */
  added: string[];
  removed: string[];
  dryRun: boolean;
  /** The directory as `create` was given it (the README's re-create line names it). */
  createdAs: string;
  /** --yes: write without asking first in a terminal. */
  yes: boolean;
  notes: string[];
}

type FeatureOption = Extract<Option, { type: "boolean" }>;

const optionalIds = OPTIONAL_FEATURES.map((f) => f.id);

function checkApplicable(command: UpdateCommand, args: ParsedArgs): void {
  const usable = `${command} takes ${optionsFor(command)
    .filter((o) => o.key !== "directory")
    .map((o) => flagUsage(o).split(",")[0]!.replace(/ <.*/, ""))
    .join(", ")}`;
  const { features, ...given } = args.given;
  const keys = [...Object.keys(given), ...Object.keys(features ?? {}), ...Object.keys(args.deploy)];
  for (const key of keys) {
    const decl = optionFor(key);
    if (!decl.commands.includes(command)) throw new UserError(`--${decl.flag} does not apply to ${command}`, usable, "not_for_this_command");
  }
  for (const flag of args.flags) {
    if (!optionFor(flag).commands.includes(command)) throw new UserError(`--${flag} does not apply to ${command}`, usable, "not_for_this_command");
  }
}

/** Uncommitted changes in the project's git work tree: an update would mix with them. */
async function uncommitted(dir: string): Promise<string[]> {
  const inside = await execa("git", ["rev-parse", "--is-inside-work-tree"], { cwd: dir, reject: false }).catch(() => undefined);
  if (inside?.stdout.trim() !== "true") return [];
  const status = await execa("git", ["status", "--porcelain", "--", "."], { cwd: dir, reject: false });
  return status.stdout.split("\n").filter(Boolean);
}

/** Why a feature that is on cannot be turned off cleanly, or undefined when it can. */
function notRemovable(id: string, remaining: readonly string[], features: readonly Feature[]): string | undefined {
  const dependent = features.find((f) => remaining.includes(f.id) && f.requires?.includes(id));
  if (dependent) return `${dependent.id} requires it`;
  const feature = features.find((f) => f.id === id);
  const provisioning = feature ? alwaysProvisioned(feature) : [];
  if (provisioning.length > 0) return `its deploy provisioned ${provisioning.join(", ")} on Fly, which removing the code would not undo`;
  return undefined;
}

/**
 * Refuses, before anything is rendered, a change that leaves a feature on whose `requires` is off
 * (one line naming the command that fixes it), or turns off one that cannot go cleanly.
 * `features`: the generator's own unless a test brings its own.
 */
export function checkFeatureChange(command: UpdateCommand, before: readonly string[], after: readonly string[], features: readonly Feature[] = FEATURES): void {
  const removed = before.filter((id) => !after.includes(id));
  const refused = removed.flatMap((id) => {
    const why = notRemovable(id, after, features);
    return why ? [`${id} (${why})`] : [];
  });
  if (refused.length > 0) {
    const dependents = features.filter((f) => after.includes(f.id) && f.requires?.some((id) => removed.includes(id))).map((f) => f.id);
    const hint = dependents.length
      ? command === "remove"
        ? `remove what requires it in the same step: ${GENERATOR.name} remove ${[...removed, ...dependents].join(" ")}, or keep it`
        : `turn off what requires it too: ${dependents.map((id) => `--no-${id}`).join(" ")}, or keep it`
      : "keep it: its code is what uses what the deploy made";
    throw new UserError(`cannot remove cleanly: ${refused.join("; ")}`, hint, "not_removable");
  }
  for (const feature of features.filter((f) => after.includes(f.id) && !before.includes(f.id))) {
    const missing = (feature.requires ?? []).filter((id) => !after.includes(id));
    if (missing.length === 0) continue;
    const hint =
      command === "upgrade"
        ? `add ${missing.map((id) => `--${id}`).join(" ")}, or drop --${feature.id}`
        : `add ${missing.length > 1 ? "them" : "it"} in the same step: ${GENERATOR.name} add ${[feature.id, ...missing].join(" ")}`;
    throw new UserError(`${feature.id} requires ${missing.join(", ")}, which ${missing.length > 1 ? "are" : "is"} off in this project`, hint, "missing_requirement");
  }
}

const on = (options: ProjectOptions) => optionalIds.filter((id) => options.features[id]);

/** The features to turn on or off: named on the command line, else asked in a terminal. */
async function chooseFeatures(command: "add" | "remove", named: string[], recorded: ProjectOptions, ui: Ui): Promise<string[]> {
  if (named.length > 0) return named;
  const current = on(recorded);
  if (!ui.interactive) {
    throw new UserError(`name the features to ${command}: ${GENERATOR.name} ${command} <feature...> [directory]`, `the features: ${optionalIds.join(", ")}`, "missing_option");
  }
  const decls = optionsFor("upgrade").filter((o): o is FeatureOption => o.group === "features" && o.type === "boolean");
  const ask = async (prompt: string, choices: FeatureOption[], initial: Record<string, boolean>) =>
    (await ui.ask({ ...GROUPS.features, prompt, choices }, initial, recorded)) as Record<string, boolean>;
  if (command === "add") {
    // Every feature, the ones already on ticked and said so; unticking one removes nothing.
    const choices = decls.map((o) => (current.includes(o.key) ? { ...o, hint: `already on · ${o.hint ?? ""}` } : o));
    const picked = await ask("Which features to add? (space toggles, enter confirms)", choices, recorded.features);
    return Object.keys(picked).filter((id) => picked[id] && !current.includes(id));
  }
  const choices = decls.filter((o) => current.includes(o.key));
  if (choices.length === 0) throw new UserError("this project has no optional feature to remove", undefined, "nothing_to_remove");
  const picked = await ask("Which features to remove? (space toggles, enter confirms)", choices, {});
  return Object.keys(picked).filter((id) => picked[id]);
}

/** The new options of `upgrade`: the recorded ones, with the flags given laid over them. */
async function upgradedOptions(recorded: ProjectOptions & DeployOptions, given: Partial<ProjectOptions>): Promise<ProjectOptions> {
  const { features, ...flags } = given;
  const base: Given = { ...recorded, ...flags, features: { ...recorded.features, ...features } };
  // Another provider brings its own model and URL unless they are given too.
  if (flags.provider && flags.provider !== recorded.provider) {
    if (flags.model === undefined) delete base.model;
    if (flags.baseUrl === undefined) delete base.baseUrl;
  }
  const decls = optionsFor("create", ["project"]).filter((o) => o.key !== "directory");
  const resolved = await resolve(decls, base, { kind: "defaults" }, { command: "upgrade" });
  return { ...(resolved as unknown as ProjectOptions), directory: recorded.directory };
}

/**
 * What the command takes from the create side, passed in by src/cli.ts: this module is loaded on
 * demand, and importing them here would move the default run's code out of dist/index.js.
 */
export interface Generator {
  planProject(options: ProjectOptions, extras?: PlanExtras): Plan;
  applyChanges(dir: string, changes: readonly FileChange[], prepare?: PrepareChanges): Promise<void>;
}

export function updateCommand(command: UpdateCommand, generator: Generator): CommandModule<UpdateRequest> {
  return {
    async resolve(args: ParsedArgs, ui: Ui): Promise<UpdateRequest> {
      checkApplicable(command, args);
      const dir = path.resolve(String(args.given.directory ?? "."));
      ui.intro(`${GENERATOR.name} ${GENERATOR.version}: ${command}`);
      if (!existsSync(dir) && command !== "upgrade" && args.given.directory !== undefined && args.features.length === 0) {
        throw new UserError(`"${args.given.directory}" is neither a feature nor a directory`, `the features: ${optionalIds.join(", ")}`, "unknown_feature");
      }
      if (!existsSync(path.join(dir, "pyproject.toml"))) {
        throw new UserError(`${dir} has no pyproject.toml: ${command} works on a project ${GENERATOR.name} generated`, `pass the project's directory: ${GENERATOR.name} ${command} ${command === "upgrade" ? "" : "<feature...> "}<directory>`, "not_a_project");
      }
      const recorded = await readRecordedOptions(dir);
      const recordedTable = findRecorded(readFileSync(path.join(dir, "pyproject.toml"), "utf8"))!;
      const recordedVersion = String(recordedTable.version ?? GENERATOR.version);
      if (newerThan(recordedVersion, GENERATOR.version)) {
        throw new UserError(
          `the project was generated by ${GENERATOR.name} ${recordedVersion}, newer than this ${GENERATOR.version}`,
          `run the newer one: npx ${GENERATOR.name}@${recordedVersion} ${command} ...`,
          "generator_too_old",
        );
      }
      const notes: string[] = [];
      let options: ProjectOptions = { ...recorded, features: { ...recorded.features } };
      if (command === "upgrade") {
        options = await upgradedOptions(recorded, args.given);
      } else {
        const current = on(recorded);
        for (const id of await chooseFeatures(command, args.features, recorded, ui)) {
          if (current.includes(id) === (command === "add")) notes.push(`${id} is ${command === "add" ? "already" : "not"} on`);
          options.features[id] = command === "add";
        }
      }
      // What changes, whichever command (upgrade's feature flags turn features on and off too).
      const added = optionalIds.filter((id) => options.features[id] && !recorded.features[id]);
      const removed = optionalIds.filter((id) => !options.features[id] && recorded.features[id]);
      checkFeatureChange(command, on(recorded), on(options));
      const dryRun = args.flags.has("dry-run");
      const readme = path.join(dir, "README.md");
      const createdAs = createdDirectory(existsSync(readme) ? readFileSync(readme, "utf8") : undefined, dir);
      if (!dryRun && !args.flags.has("force")) {
        const changes = await uncommitted(dir);
        if (changes.length > 0) {
          throw new UserError(
            `${dir} has uncommitted changes (${changes.length} file${changes.length === 1 ? "" : "s"}, e.g. ${changes[0]!.slice(3)}): ${command} would mix its changes with them`,
            "commit or stash them first, or pass --force",
            "uncommitted_changes",
          );
        }
      }
      return { command, dir, recorded, recordedTable, recordedVersion, options, added, removed, dryRun, yes: args.flags.has("yes"), notes, createdAs };
    },

    async run(request: UpdateRequest, ui: Ui): Promise<CommandResult> {
      return runUpdate(request, ui, generator);
    },
  };
}

/** a > b for versions like 1.2.3 (a pre-release tag counts as its release). */
export function newerThan(a: string, b: string): boolean {
  const parts = (v: string) => v.split("-")[0]!.split(".").map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
}

const lastLine = (output: unknown) => String(output ?? "").trim().split("\n").pop() || "no output";

/** The uv config a staged copy of the project takes with it (uv reads them from the project's folder). */
const UV_FILES = ["uv.lock", "uv.toml", ".python-version", "README.md"];

/**
 * Why uv could not lock a copy of pyproject.toml (and the files of UV_FILES) as it would the
 * project: a workspace, a source at a local path, or metadata built from the sources. Else undefined.
 */
export function stagedLockUnfit(pyproject: string): string | undefined {
  let doc: { project?: { dynamic?: unknown[] }; tool?: { uv?: { workspace?: unknown; sources?: Record<string, unknown> } } };
  try {
    doc = parseToml(pyproject) as typeof doc;
  } catch {
    return "pyproject.toml is not valid TOML";
  }
  if (doc.tool?.uv?.workspace) return "the project is a uv workspace";
  const sources = Object.values(doc.tool?.uv?.sources ?? {}).flatMap((s) => (Array.isArray(s) ? s : [s])) as Record<string, unknown>[];
  if (sources.some((s) => s && typeof s === "object" && ("path" in s || "workspace" in s))) return "a uv source is a local path";
  if ((doc.project?.dynamic ?? []).length > 0) return "its metadata is dynamic";
  return undefined;
}

/**
 * `uv lock` on a copy of the new pyproject.toml (with the lock and uv's files as they are) in the
 * staging folder, before anything moves: the refreshed uv.lock moves in with the other files, and
 * a failure leaves the project as it was. uv not on PATH: the files are written, the step skipped.
 */
async function lockCopy(command: UpdateCommand, dir: string, changed: readonly FileMerge[], scratch: string, steps: { step: string; status: "done" | "skipped" | "failed"; note: string }[]): Promise<FileChange[]> {
  for (const file of ["pyproject.toml", ...UV_FILES]) {
    const merged = changed.find((m) => m.path === file);
    const content = merged ? merged.after : existsSync(path.join(dir, file)) ? readFileSync(path.join(dir, file), "utf8") : undefined;
    if (content !== undefined) writeFileSync(path.join(scratch, file), content);
  }
  const locked = await execa("uv", ["lock"], { cwd: scratch, reject: false, all: true, stdin: "ignore" }).catch(() => undefined);
  if (locked?.exitCode === undefined) {
    steps.push({ step: "lock", status: "skipped", note: `uv is not on PATH: run cd ${shellPath(path.relative(process.cwd(), dir) || ".")} && uv lock` });
    return [];
  }
  if (locked.exitCode !== 0) {
    throw new UserError(
      `uv lock failed on the changed pyproject.toml (${lastLine(locked.all)}): nothing was changed`,
      `fix its cause (a pin of yours the new dependencies conflict with, or PyPI out of reach), then run ${command} again`,
      "lock_failed",
    );
  }
  steps.push({ step: "lock", status: "done", note: "uv lock" });
  const lock = readFileSync(path.join(scratch, "uv.lock"), "utf8");
  const current = existsSync(path.join(dir, "uv.lock")) ? readFileSync(path.join(dir, "uv.lock"), "utf8") : undefined;
  return lock === current ? [] : [{ path: "uv.lock", content: lock }];
}

/** fly.toml's app: the name the deploy names its databases after (a deploy --name may have changed it). */
function flyAppName(dir: string): string | undefined {
  try {
    const app = (parseToml(readFileSync(path.join(dir, "fly.toml"), "utf8")) as { app?: unknown }).app;
    return typeof app === "string" && app !== "" ? app : undefined;
  } catch {
    return undefined;
  }
}

/** The services a deploy of a project with these options provisions (the features' provisioning with a `service`). */
const servicesOf = (options: ProjectOptions): ServiceNeed[] =>
  Object.values(mergeContributions(FEATURES.filter((f) => isEnabled(f, options))).provisioning).flatMap((step) => (step.service ? [step.service] : []));

/** The files a plan writes, by path. */
const byPath = (files: readonly PlannedFile[]) => new Map(files.map((f) => [f.path, f.content]));

/** The recorded table as the flags of `create` (what an older version understands: only what it recorded). */
function recordedArgv(table: Record<string, unknown>): string[] {
  const argv: string[] = [];
  for (const [key, value] of Object.entries(table)) {
    if (key === "version") continue;
    if (typeof value === "boolean") argv.push(value ? `--${key}` : `--no-${key}`);
    else if (Array.isArray(value)) {
      if (value.length > 0) argv.push(`--${key}`, value.map(String).join(","));
    } else if (value && typeof value === "object") {
      for (const [id, enabled] of Object.entries(value)) argv.push(enabled ? `--${id}` : `--no-${id}`);
    } else argv.push(`--${key}`, String(value));
  }
  return argv;
}

interface Base {
  files: Map<string, string>;
  /** Rendered by the version the project records; false: by this one, for lack of it. */
  precise: boolean;
  source: string;
}

/** The files the recorded version wrote for the recorded options. */
async function renderBase(request: UpdateRequest, current: Plan, ui: Ui): Promise<Base> {
  const spec = process.env[BASE_PACKAGE_ENV] || `${GENERATOR.name}@${request.recordedVersion}`;
  if (request.recordedVersion === GENERATOR.version && !process.env[BASE_PACKAGE_ENV]) {
    return { files: byPath(current.files), precise: true, source: `${GENERATOR.name} ${GENERATOR.version} (this one)` };
  }
  const progress = ui.step(`Rendering the project as ${GENERATOR.name} ${request.recordedVersion} wrote it`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), "cff-base-"));
  try {
    // --force: a dry run, and the directory named may be the project itself.
    // The directory after `--` (as the re-create line has it since 0.1.0's parser), so a name such as -dash is not read as an option.
    const argv = [...recordedArgv(request.recordedTable), "--yes", "--force", "--dry-run", "--json", "--plan-content", "--", request.createdAs];
    const result = await execa("npm", ["exec", "--yes", `--package=${spec}`, "--", GENERATOR.name, ...argv], { cwd: scratch, reject: false, timeout: 180_000, env: { ...process.env, CI: "true" } });
    const document = JSON.parse(result.stdout || "{}") as { ok?: boolean; files?: { path: string; content?: string }[] };
    if (result.exitCode !== 0 || !document.ok || !document.files?.every((f) => typeof f.content === "string")) {
      throw new Error(result.stderr.trim().split("\n").pop() || "no plan with file contents");
    }
    progress.done(`rendered by ${spec}`);
    return { files: new Map(document.files.map((f) => [f.path, f.content!])), precise: true, source: spec };
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    progress.fail(`${spec} is unavailable (${why}); merging against this version's rendering of the recorded options, which is less precise`);
    return { files: byPath(current.files), precise: false, source: `${GENERATOR.name} ${GENERATOR.version} (in place of ${request.recordedVersion})` };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The directory the project was created as, from its README's re-create line (`npx
 * create-fly-fastapi@0.1.0 my-api --name ...`), which both renderings repeat; else the folder's name.
 */
export function createdDirectory(readme: string | undefined, dir: string): string {
  const escaped = GENERATOR.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const quoted = "('(?:[^']|'\\\\'')*'|[^\\s'`]+)";
  // Since H5 the directory comes last, after `--`; earlier versions wrote it first.
  const word =
    new RegExp(`npx ${escaped}@\\S+ (?:[^\\n\`]*? )?--yes -- ${quoted}`).exec(readme ?? "")?.[1] ??
    new RegExp(`npx ${escaped}@\\S+ ${quoted} --`).exec(readme ?? "")?.[1];
  if (!word) return path.basename(dir);
  return word.startsWith("'") ? word.slice(1, -1).replace(/'\\''/g, "'") : word;
}

const plan = (generator: Generator, options: ProjectOptions & Partial<DeployOptions>, directory: string) =>
  generator.planProject({ ...options, directory }, { regions: extraRegions(options.regions ?? "", options.region), org: options.org });

/** What a file's action reads as in the summary. */
const SAYS: Record<FileMerge["action"], string> = {
  added: "added",
  updated: "updated (you had not changed it)",
  merged: "merged with your changes",
  conflict: "CONFLICT: both changed the same lines; resolve the markers",
  kept: "kept as you have it",
  removed: "removed (you had not changed it)",
  "kept-changed": "no longer generated, kept because you changed it",
  restored: "restored: you had deleted it, and the new version changes it",
  "stays-deleted": "stays deleted",
};

async function runUpdate(request: UpdateRequest, ui: Ui, generator: Generator): Promise<CommandResult> {
  const { dir, command } = request;
  const recordedPlan = plan(generator, request.recorded, request.createdAs);
  const newPlan = plan(generator, { ...request.recorded, ...request.options }, request.createdAs);
  const base = await renderBase(request, recordedPlan, ui);
  const theirs = byPath(newPlan.files);
  const labels = { ours: "yours", base: `generated by ${request.recordedVersion}`, theirs: `generated by ${GENERATOR.version}` };
  const paths = [...new Set([...base.files.keys(), ...theirs.keys()])].sort();
  const merges: FileMerge[] = [];
  for (const file of paths) {
    const onDisk = path.join(dir, file);
    const ours = existsSync(onDisk) ? readFileSync(onDisk, "utf8") : undefined;
    const merge = await mergeFile(file, base.files.get(file), ours, theirs.get(file), labels);
    // A file absent from the base and the new rendering alike is not this run's business.
    if (!(merge.before === undefined && merge.after === undefined && !base.files.has(file))) merges.push(merge);
  }
  const changed = merges.filter((m) => m.before !== m.after);
  const conflicts = merges.filter((m) => m.action === "conflict").map((m) => m.path);
  const listed = merges.filter((m) => m.action !== "kept" && !(m.action === "stays-deleted" && m.after === undefined && base.files.get(m.path) === theirs.get(m.path)));

  // What the next deploy does that the last one did not.
  const newSecrets = newPlan.deploy.secrets.filter((s) => !recordedPlan.deploy.secrets.includes(s));
  const newProvisioning = newPlan.deploy.provisioning.filter((p) => !recordedPlan.deploy.provisioning.some((q) => JSON.stringify(q) === JSON.stringify(p)));
  const goneSecrets = recordedPlan.deploy.secrets.filter((s) => !newPlan.deploy.secrets.includes(s));
  const before = servicesOf(request.recorded);
  const app = flyAppName(dir) ?? request.options.name;
  const newServices = servicesOf(request.options)
    .filter((need) => !before.some((b) => b.kind === need.kind && b.secret === need.secret))
    .map((need) => ({ ...need, name: serviceName(need.kind, app) }));
  const deployCommand = `${GENERATOR.name} deploy ${path.relative(process.cwd(), dir) || "."}`;
  const deployNotes = [
    ...newServices.map((need) =>
      need.option ? `a deploy with --${need.option} (${deployCommand} --${need.option}) ${serviceWork(need, app)}` : `the next deploy (${deployCommand}) ${serviceWork(need, app)}`,
    ),
    ...(newSecrets.length ? [`the next deploy sets the new secret${newSecrets.length > 1 ? "s" : ""} ${newSecrets.join(", ")} on Fly`] : []),
    ...(goneSecrets.length ? [`${goneSecrets.join(", ")} stay${goneSecrets.length > 1 ? "" : "s"} set on Fly: fly secrets unset ${goneSecrets.join(" ")}`] : []),
    // Not refused (most projects never asked for it), but not undone either.
    ...FEATURES.filter((f) => request.removed.includes(f.id)).flatMap((f) =>
      provisionedOnRequest(f).map(({ id, option }) => `if a deploy ran with --${option}, what it provisioned for ${f.id} (${id}) stays on Fly`),
    ),
  ];

  const summary = [
    ...request.notes,
    ...(request.added.length ? [`turns on: ${request.added.join(", ")}`] : []),
    ...(request.removed.length ? [`turns off: ${request.removed.join(", ")}`] : []),
    ...(request.recordedVersion !== GENERATOR.version ? [`from ${GENERATOR.name} ${request.recordedVersion} to ${GENERATOR.version}`] : []),
    `base: ${base.source}${base.precise ? "" : " (less precise: edits may show as both-changed)"}`,
    ...listed.map((m) => `${m.path}: ${SAYS[m.action]}`),
    ...(changed.length === 0 ? ["nothing to change"] : []),
    ...(conflicts.length ? [`${conflicts.length} file${conflicts.length > 1 ? "s" : ""} with conflicts: ${conflicts.join(", ")}`] : []),
    ...deployNotes,
  ];
  const document = (extra: Record<string, unknown>) => ({
    ok: conflicts.length === 0,
    command,
    dryRun: request.dryRun,
    directory: dir,
    from: request.recordedVersion,
    to: GENERATOR.version,
    base: { source: base.source, precise: base.precise },
    added: request.added,
    removed: request.removed,
    options: request.options,
    files: merges.map((m) => ({ path: m.path, action: m.action, changed: m.before !== m.after })),
    conflicts,
    deploy: { newSecrets, newProvisioning, newServices, staleSecrets: goneSecrets },
    ...(conflicts.length ? { error: { code: "merge_conflicts", message: `conflicts in ${conflicts.join(", ")}`, hint: "resolve the conflict markers, then commit" } } : {}),
    ...extra,
  });
  const diffs = changed.map((m) =>
    createTwoFilesPatch(m.before === undefined ? "/dev/null" : `a/${m.path}`, m.after === undefined ? "/dev/null" : `b/${m.path}`, m.before ?? "", m.after ?? ""),
  );
  const exitCode = conflicts.length > 0 ? 1 : 0;
  // Shown after the summary, as the last line on stderr.
  const conflictError = conflicts.length
    ? new UserError(`conflicts in ${conflicts.join(", ")}`, "resolve the conflict markers (<<<<<<< yours ... >>>>>>>) in those files, then commit", "merge_conflicts")
    : undefined;

  if (request.dryRun) {
    return {
      document: document({ diff: diffs.join("") }),
      exitCode,
      show(ui) {
        for (const patch of diffs) ui.info(patch.trimEnd());
        for (const line of summary) ui.info(line);
        ui.info("dry run: nothing was written");
      },
    };
  }

  // In a terminal, the person sees what would change before anything is written.
  if (changed.length > 0 && ui.interactive && !request.yes) {
    ui.note("Changes", summary);
    if (!(await ui.confirm(`Write ${changed.length} file${changed.length > 1 ? "s" : ""}${conflicts.length ? `, ${conflicts.length} with conflict markers` : ""}?`))) {
      return { document: document({ written: false }), exitCode: 0, show: (ui) => ui.outro("Nothing was written") };
    }
  }

  // The lock follows pyproject.toml when uv is there; a pip project has no lock to refresh.
  const steps: { step: string; status: "done" | "skipped" | "failed"; note: string }[] = [];
  const pyproject = changed.find((m) => m.path === "pyproject.toml");
  const locking = pyproject?.after !== undefined && request.options.pythonTool === "uv";
  if (pyproject && request.options.pythonTool !== "uv") steps.push({ step: "lock", status: "skipped", note: "a pip project has no lock file; reinstall with pip install -e ." });
  // uv locks a staged copy when pyproject.toml alone tells it the project; else the project itself, after the move.
  const lockInPlace = locking ? stagedLockUnfit(pyproject.after!) : undefined;
  if (changed.length > 0) {
    const writing = ui.step(`Writing ${changed.length} file${changed.length > 1 ? "s" : ""}${locking && !lockInPlace ? ", uv.lock refreshed in a staged copy first" : ""}`);
    try {
      const lockStaged = locking && !lockInPlace ? (staging: { staged: string; scratch: string }) => lockCopy(command, dir, changed, staging.scratch, steps) : undefined;
      await generator.applyChanges(dir, changed.map((m) => ({ path: m.path, content: m.after })), lockStaged);
    } catch (error) {
      writing.fail("nothing was changed");
      throw error;
    }
    writing.done(`${command}: ${changed.length} file${changed.length > 1 ? "s" : ""} changed in ${dir}${steps.some((s) => s.step === "lock" && s.status === "done") ? ", uv.lock refreshed" : ""}`);
  }
  if (lockInPlace) {
    const progress = ui.step(`Refreshing uv.lock (${lockInPlace}, so uv locks the project itself)`);
    const locked = await execa("uv", ["lock"], { cwd: dir, reject: false, all: true }).catch(() => undefined);
    const status = locked?.exitCode === undefined ? "skipped" : locked.exitCode === 0 ? "done" : "failed";
    const rerun = `cd ${shellPath(path.relative(process.cwd(), dir) || ".")} && uv lock`;
    const note =
      status === "done"
        ? "uv lock"
        : status === "skipped"
          ? `uv is not on PATH: run ${rerun}`
          : `uv lock failed (${lastLine(locked?.all)}): the files are changed, uv.lock is not; fix that, then run ${rerun}`;
    (status === "done" ? progress.done : progress.fail)(note);
    steps.push({ step: "lock", status, note });
  }
  const lockWarning = steps.find((s) => s.step === "lock" && s.status !== "done" && request.options.pythonTool === "uv");
  return {
    document: document({ steps }),
    exitCode,
    ...(conflictError ? { error: conflictError } : {}),
    show(ui) {
      ui.note(command === "upgrade" ? "Upgrade" : command === "add" ? "Added" : "Removed", summary);
      if (lockWarning) ui.info(`warning: ${lockWarning.note}`);
      if (conflicts.length === 0) ui.outro("Done: review with git diff, then commit");
    },
  };
}
