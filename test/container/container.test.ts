/**
 * Builds generated projects into real images with buildah and serves them:
 * scripts/container/check.sh does the work (see docs/container.md); this test
 * generates the projects with the CLI, runs the script and reads its report.
 *
 * Needs root, buildah and debootstrap (Debian packages; .ci/run installs them)
 * and python3 with pip on the host (for the uv stand-in image). Skipped, with
 * the reason, only when buildah cannot run here at all.
 */
import { execa } from "execa";
import { spawnSync } from "node:child_process";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPTIONAL_FEATURES } from "../../src/features/index.js";
import { MIGRATE_COMMAND } from "../../src/features/postgres.js";
import { runCli } from "../support/cli.js";
import { postgresBin, startPostgres, type PostgresCluster } from "../support/postgres.js";
import { REPO_ROOT, toolEnv } from "../support/tools.js";

const CHECK = path.join(REPO_ROOT, "scripts/container/check.sh");
/** The script's exit status for "buildah cannot run here". */
const CANNOT_RUN = 3;
/** One check is a cold build, a run and a rebuild: about 5 min on 2 cores with vfs storage. */
const CHECK_TIMEOUT_MS = 12 * 60_000;

interface Report {
  sizeBytes: number;
  coldBuildSeconds: number;
  rebuildSeconds: number;
  rebuildSharedLayers: number;
  venvDependenciesIdenticalAfterCodeChange: boolean;
  rebuildSteps: string[];
  run: {
    uid: number;
    port: number;
    health: { status: number; body: string };
    stream: { status: number; contentType: string; events: string[]; firstEventMs: number; totalMs: number };
  };
  /** The same CMD started with CORS_ORIGINS='*'. */
  refusedStart: { exitCode: number; lines: string[] };
  hostOnlyCertificatesChecked: number;
  /** With --database-url: fly.toml's release_command run twice in the image, then the image served with DATABASE_URL. */
  database: {
    migrations: string[];
    ready: { status: number; checks: Record<string, boolean> };
    done: { event: string; conversation_id: string; stored: boolean } | null;
    conversation: { id: string; status: number; messages: [string, string][] };
    seconds: number;
  } | null;
}

/** Why buildah cannot run here, or null when it can. */
function cannotRun(): string | null {
  if (process.platform !== "linux") return `buildah needs Linux (this is ${process.platform})`;
  if (spawnSync("buildah", ["--version"]).error) return "buildah is not installed (apt-get install buildah debootstrap)";
  if (process.getuid?.() !== 0) return "the container check runs as root (chroot isolation, debootstrap)";
  return null;
}

const combos = [
  { id: "default", args: [] as string[], database: false },
  // pip, with every optional feature on (the default project leaves some off), --postgres among them:
  // its image also runs fly.toml's release_command against a real, empty PostgreSQL.
  { id: "pip-all", args: ["--python-tool", "pip", ...OPTIONAL_FEATURES.map((f) => `--${f.id}`)], database: true },
];
const pgBin = postgresBin();

const reason = cannotRun();
if (reason) console.warn(`[container] skipped: ${reason}`);

describe.skipIf(reason !== null)("the generated Dockerfile, built and run with buildah", () => {
  let root: string;
  let postgres: PostgresCluster | undefined;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-container-"));
  });
  afterAll(async () => {
    await postgres?.remove();
    if (root) await fs.remove(root);
  });

  it.for(combos)(
    "$id: builds, serves /healthz and an SSE stream as a non-root user, leaks no build settings, and caches dependencies",
    { timeout: CHECK_TIMEOUT_MS },
    async ({ id, args, database }, ctx) => {
      const dir = path.join(root, id);
      const generated = await runCli([dir, ...args, "--yes", "--no-install", "--no-git"]);
      expect(generated.exitCode, generated.stderr).toBe(0);

      // Missing PostgreSQL fails rather than skips: .ci/run installs it, and the check is the proof of --postgres.
      if (database) expect(pgBin, "PostgreSQL's initdb (Debian: apt-get install postgresql)").toBeDefined();
      if (database) postgres = await startPostgres(pgBin!);
      const databaseArgs = postgres && database ? ["--database-url", postgres.url] : [];
      const reportFile = path.join(root, `${id}.json`);
      const check = await execa("bash", [CHECK, "--report", reportFile, ...databaseArgs, dir], {
        reject: false,
        env: toolEnv(), // uv (for uv.lock) from .cache/tools
        timeout: CHECK_TIMEOUT_MS - 30_000,
        all: true,
      });
      if (check.exitCode === CANNOT_RUN) ctx.skip(`buildah cannot run here: ${check.all?.trim().split("\n").at(-1)}`);
      expect(check.exitCode, check.all?.slice(-6000)).toBe(0);

      const report: Report = JSON.parse(await fs.readFile(reportFile, "utf8"));
      console.log(
        `[container] ${id}: image ${(report.sizeBytes / 1e6).toFixed(0)} MB, cold build ${report.coldBuildSeconds} s, ` +
          `rebuild after a code change ${report.rebuildSeconds} s, first SSE event after ${report.run.stream.firstEventMs} ms`,
      );
      expect(report.run.uid).not.toBe(0);
      expect(report.run.health.status).toBe(200);
      expect(report.run.stream.status).toBe(200);
      expect(report.run.stream.contentType).toContain("text/event-stream");
      expect(report.run.stream.events).toContain("delta");
      expect(report.run.stream.events.at(-1)).toBe("done");
      // A bad setting stops the image's CMD before it serves, in one line naming the variable.
      expect(report.refusedStart.exitCode).not.toBe(0);
      expect(report.refusedStart.lines).toEqual([expect.stringMatching(/^error: CORS_ORIGINS /)]);
      // The dependency install came from the layer cache; the rebuild only redid the code steps.
      const installs = report.rebuildSteps.filter((s) => /\b(uv sync|pip install)\b/.test(s));
      expect(installs[0], report.rebuildSteps.join("\n")).toMatch(/^cached /);
      expect(report.venvDependenciesIdenticalAfterCodeChange).toBe(true);
      // No timing assertion: with vfs, copying the file system per step dominates both builds,
      // and other tests share the 2 cores.
      // A slim image: the stand-in base is about 130 MB, the virtualenv about 70 MB.
      expect(report.sizeBytes).toBeLessThan(400e6);

      if (!database) return expect(report.database).toBeNull();
      // What `fly deploy` does first: fly.toml's release_command, in the image, migrates an empty
      // database; run again (every deploy does) it changes nothing. Then the image serves with it.
      const flyToml = await fs.readFile(path.join(dir, "fly.toml"), "utf8");
      expect(flyToml).toContain(`release_command = "${MIGRATE_COMMAND}"`);
      const stored = report.database!;
      console.log(`[container] ${id}: release_command, serve with DATABASE_URL and a stored chat in ${stored.seconds} s`);
      expect(stored.migrations[0]).toMatch(/^-> 0001/);
      expect(stored.ready).toMatchObject({ status: 200, checks: { database: true } });
      expect(stored.done).toEqual({ event: "done", conversation_id: stored.conversation.id, stored: true });
      expect(stored.conversation.status).toBe(200);
      expect(stored.conversation.messages).toEqual([
        ["user", "kept by the container check"],
        ["assistant", expect.any(String)],
      ]);
    },
  );
});
