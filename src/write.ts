import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import path from "node:path";
import { UserError } from "./errors.js";
import type { Plan } from "./plan.js";

// The checks and the writes below call node:fs synchronously: each is a system call of a few
// microseconds, while awaiting one costs a round trip through libuv's thread pool.

export interface TargetState {
  /** Absolute path of the project directory. */
  dir: string;
  exists: boolean;
  /** Files of the plan that already exist there and would be replaced (only with --force). */
  overwrites: string[];
}

/** The stats of a path, or undefined when it cannot be read (missing, or no permission). */
function statOrUndefined(file: string, link = false): Stats | undefined {
  try {
    return link ? lstatSync(file) : statSync(file);
  } catch {
    return undefined;
  }
}

function nearestExisting(dir: string): string {
  let current = dir;
  while (!existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

/** Everything that can be known to fail before anything is written. */
export async function checkTarget(plan: Plan, force: boolean): Promise<TargetState> {
  const dir = path.resolve(plan.options.directory);
  const stat = statOrUndefined(dir);
  if (stat && !stat.isDirectory()) {
    throw new UserError(`${plan.options.directory} is a file, not a directory: choose another directory`, "pass a directory that does not exist yet, e.g. my-ai-api");
  }
  const overwrites: string[] = [];
  if (stat) {
    const entries = readdirSync(dir);
    if (entries.length > 0 && !force) {
      throw new UserError(
        `${plan.options.directory} is not empty: choose a new directory, or pass --force to write into it (only the files of the plan are replaced)`,
        "see what --force would replace first: add --dry-run --force",
        "directory_not_empty",
      );
    }
    for (const file of plan.files) {
      const existing = statOrUndefined(path.join(dir, file.path), true);
      if (existing?.isDirectory()) {
        throw new UserError(`${path.join(plan.options.directory, file.path)} is a directory; the plan writes a file there`, "move it away, or choose another directory");
      }
      if (existing) overwrites.push(file.path);
    }
  }
  const writableRoot = nearestExisting(stat ? dir : path.dirname(dir));
  try {
    accessSync(writableRoot, constants.W_OK);
  } catch {
    throw new UserError(`cannot write to ${writableRoot}: permission denied; choose another directory`, "choose a directory you can write to, e.g. one in your home directory");
  }
  const rootStat = statSync(writableRoot);
  if (!rootStat.isDirectory()) {
    throw new UserError(`${writableRoot} is a file, so ${plan.options.directory} cannot be created inside it`, "choose a path whose parent folders are directories");
  }
  return { dir, exists: Boolean(stat), overwrites };
}

/** What the machine refused while writing, as one line and a hint; undefined for anything else. */
const MACHINE_ERRORS: Record<string, [what: string, hint: string]> = {
  ENOSPC: ["no space left on device", "free some space (df -h shows what is left), or choose a directory on another disk"],
  EDQUOT: ["disk quota exceeded", "free some space within your quota, or choose a directory on another disk"],
  EROFS: ["read-only file system", "choose a directory on a writable disk"],
  EACCES: ["permission denied", "choose a directory you can write to, e.g. one in your home directory"],
  EPERM: ["operation not permitted", "choose a directory you can write to, e.g. one in your home directory"],
  ENAMETOOLONG: ["a file name is too long for the file system", "choose a shorter directory name"],
  EIO: ["input/output error", "check the disk (dmesg may say more), or choose a directory on another disk"],
};

function machineError(error: unknown, directory: string): unknown {
  const known = MACHINE_ERRORS[(error as NodeJS.ErrnoException)?.code ?? ""];
  return known ? new UserError(`${known[0]} while writing ${directory}`, known[1]) : error;
}

/**
 * A private folder beside the project (a fixed name, not the project's: a project name of up to
 * 255 bytes must still fit) that a Ctrl-C or SIGTERM removes until `release()`; `remove()` deletes it.
 */
function openStaging(parent: string, directory: string): { path: string; remove(): void; release(): void } {
  let staging: string;
  try {
    staging = mkdtempSync(path.join(parent, ".create-fly-fastapi.staging-"));
  } catch (error) {
    throw machineError(error, directory);
  }
  const remove = () => rmSync(staging, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    path: staging,
    remove,
    release() {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    },
  };
}

/**
 * Writes the plan all-or-nothing: every file goes into a staging folder beside
 * the target first, which is then moved into place. A failure or Ctrl-C before
 * the move leaves nothing behind; a full disk or another refusal of the machine
 * is one line (a UserError), not a stack trace.
 */
export async function writePlan(plan: Plan, target: TargetState): Promise<void> {
  const stagingFolder = openStaging(nearestExisting(path.dirname(target.dir)), plan.options.directory);
  const staging = stagingFolder.path;
  try {
    // Each folder once (the plan names them all), then the files. Synchronously, as create-vite
    // does (measured on a 2-core machine: as fast as writing them all at once with fs/promises
    // and ~10 ms less CPU; ~25 ms faster than awaiting a mkdir and a write per file).
    for (const folder of new Set(plan.files.map((file) => path.dirname(path.join(staging, file.path))))) {
      mkdirSync(folder, { recursive: true });
    }
    for (const file of plan.files) writeFileSync(path.join(staging, file.path), file.content, { mode: 0o644 });
    // One turn of the event loop (no thread pool): a Ctrl-C that arrived during the writes is
    // handled here, so the staging folder is removed and nothing is moved into place.
    await new Promise((resolve) => setImmediate(resolve));
    const isEmptyDir = target.exists && readdirSync(target.dir).length === 0;
    if (!target.exists || isEmptyDir) {
      if (isEmptyDir) rmdirSync(target.dir);
      mkdirSync(path.dirname(target.dir), { recursive: true });
      renameSync(staging, target.dir);
      // mkdtemp made the staging folder private (0700); the project gets the usual mode.
      chmodSync(target.dir, 0o777 & ~process.umask());
    } else {
      // --force into a non-empty directory: replace only the files of the plan.
      for (const file of plan.files) {
        const destination = path.join(target.dir, file.path);
        mkdirSync(path.dirname(destination), { recursive: true });
        renameSync(path.join(staging, file.path), destination);
      }
      stagingFolder.remove();
    }
  } catch (error) {
    stagingFolder.remove();
    throw machineError(error, plan.options.directory);
  } finally {
    stagingFolder.release();
  }
}

/** One file of a change to an existing project: its new content, or undefined to delete it. */
export interface FileChange {
  path: string;
  content: string | undefined;
}

/**
 * Runs in the staging folder once the new files are written there, before anything moves: the
 * changes it returns move in with the others (a uv.lock refreshed in a staged copy), and a throw
 * leaves the project as it was. `staged` holds the new files at their paths; `scratch` is an
 * empty folder of its own, removed with the staging folder.
 */
export type PrepareChanges = (staging: { staged: string; scratch: string }) => Promise<readonly FileChange[]>;

/**
 * Changes files of an existing project all at once: every new file is written into a staging
 * folder beside the project first, then each is moved in, the file it replaces kept aside until
 * all are in place. A failure (or Ctrl-C before the moves) leaves the project as it was.
 */
export async function applyChanges(dir: string, requested: readonly FileChange[], prepare?: PrepareChanges): Promise<void> {
  const stagingFolder = openStaging(path.dirname(dir), dir);
  const staging = stagingFolder.path;
  let changes = requested;
  const moved: { destination: string; previous: string | undefined; placed: boolean }[] = [];
  // Folders made in the project for new files: removed again if the change is undone.
  const madeFolders: string[] = [];
  try {
    const fresh = path.join(staging, "new");
    const previous = path.join(staging, "previous");
    for (const change of changes) {
      if (change.content === undefined) continue;
      mkdirSync(path.dirname(path.join(fresh, change.path)), { recursive: true });
      writeFileSync(path.join(fresh, change.path), change.content, { mode: 0o644 });
    }
    if (prepare) {
      const scratch = path.join(staging, "scratch");
      mkdirSync(scratch);
      const extra = await prepare({ staged: fresh, scratch });
      for (const change of extra) {
        if (change.content === undefined) continue;
        mkdirSync(path.dirname(path.join(fresh, change.path)), { recursive: true });
        writeFileSync(path.join(fresh, change.path), change.content, { mode: 0o644 });
      }
      changes = [...requested.filter((c) => !extra.some((e) => e.path === c.path)), ...extra];
    }
    // The tests' hook for a Ctrl-C while staged: says so on stderr, then waits for the signal.
    if (process.env.CREATE_FLY_FASTAPI_TEST_PAUSE_STAGED) {
      process.stderr.write(`test hook: staged in ${staging}\n`);
      await new Promise((resolve) => setTimeout(resolve, 30_000));
    }
    // A Ctrl-C that arrived during the writes is handled here, before anything is moved.
    await new Promise((resolve) => setImmediate(resolve));
    // The moves are synchronous: no signal handler runs between two of them.
    for (const change of changes) {
      const destination = path.join(dir, change.path);
      const existing = statOrUndefined(destination, true);
      const aside = existing ? path.join(previous, change.path) : undefined;
      // A file replaced keeps its mode (a script its owner made executable).
      if (existing && change.content !== undefined) chmodSync(path.join(fresh, change.path), existing.mode & 0o7777);
      if (aside) {
        mkdirSync(path.dirname(aside), { recursive: true });
        renameSync(destination, aside);
      }
      const move = { destination, previous: aside, placed: false };
      moved.push(move);
      if (change.content !== undefined) {
        const made = mkdirSync(path.dirname(destination), { recursive: true });
        if (made) madeFolders.push(made);
        renameSync(path.join(fresh, change.path), destination);
        move.placed = true;
      }
    }
  } catch (error) {
    // Back as it was: each moved file out again, each replaced one back.
    for (const { destination, previous, placed } of moved.reverse()) {
      if (placed) rmSync(destination, { force: true });
      if (previous) renameSync(previous, destination);
    }
    for (const folder of madeFolders.reverse()) rmSync(folder, { recursive: true, force: true });
    // A full disk or another refusal of the machine is one line, as writePlan's.
    throw machineError(error, dir);
  } finally {
    stagingFolder.remove();
    stagingFolder.release();
  }
}
