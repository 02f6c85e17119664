/**
 * Failures of the machine, not the user: a full disk (a real, tiny tmpfs) and a git commit
 * that fails. Each is one line with git's or the system's own reason, and nothing is left half-written.
 */
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

const root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-machine-"));
const disk = path.join(root, "full-disk");
await fs.mkdir(disk);
// 64 KiB holds a few of the project's files, never all of them.
const mount = await execa("mount", ["-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", disk], { reject: false, all: true });
const mounted = mount.exitCode === 0;
if (!mounted) console.warn(`skipping the full-disk test: mount -t tmpfs was refused (${mount.all?.trim() || mount.exitCode})`);

afterAll(async () => {
  if (mounted) await execa("umount", [disk]);
  await fs.remove(root);
});

/** git's environment for the tests: no user or system config, an identity, and the given settings. */
function gitEnv(config: Record<string, string>, identity = true): Record<string, string> {
  const entries = Object.entries(config);
  return {
    HOME: root,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_COUNT: String(entries.length),
    ...Object.fromEntries(entries.flatMap(([key, value], i) => [[`GIT_CONFIG_KEY_${i}`, key], [`GIT_CONFIG_VALUE_${i}`, value]])),
    // Without an identity: empty, so none of the runner's own GIT_AUTHOR_* reaches git.
    GIT_AUTHOR_NAME: identity ? "Test" : "",
    GIT_AUTHOR_EMAIL: identity ? "test@example.com" : "",
    GIT_COMMITTER_NAME: identity ? "Test" : "",
    GIT_COMMITTER_EMAIL: identity ? "test@example.com" : "",
  };
}

describe.skipIf(!mounted)("a full disk", () => {
  it("is one line naming the directory, with a hint, and leaves nothing behind", async () => {
    const dir = path.join(disk, "my-ai-api");
    const result = await runCli([dir, "--no-install", "--no-git", "--yes"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split("\n")).toEqual([`error: no space left on device while writing ${dir}`, expect.stringMatching(/^hint: free some space/)]);
    expect(await fs.readdir(disk)).toEqual([]);
  });

  it("in --json mode too, with nothing on the disk", async () => {
    const result = await runCli([path.join(disk, "my-ai-api"), "--no-install", "--no-git", "--yes", "--json"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("no space left on device while writing");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await fs.readdir(disk)).toEqual([]);
  });
});

describe("a git commit that fails", () => {
  const create = (name: string, env: Record<string, string>) => runCli([path.join(root, name), "--no-install", "--git", "--yes", "--json"], { env });
  const gitStep = (stdout: string) => (JSON.parse(stdout) as { steps: { step: string; status: string; note: string }[] }).steps.find((s) => s.step === "git")!;

  it("reports git's reason when signing fails, not a missing identity", async () => {
    const result = await create("signing", gitEnv({ "commit.gpgsign": "true", "gpg.program": "false" }));
    expect(result.exitCode).toBe(1);
    const step = gitStep(result.stdout);
    expect(step.status).toBe("failed");
    expect(step.note).toMatch(/^git repository initialised, but the first commit failed: .*gpg failed to sign the data/);
    expect(step.note).not.toContain("identity");
  });

  it("reports a failing pre-commit hook's own words", async () => {
    const hooks = path.join(root, "hooks");
    await fs.outputFile(path.join(hooks, "pre-commit"), "#!/bin/sh\necho 'secrets scanner: refusing this commit' >&2\nexit 1\n", { mode: 0o755 });
    const result = await create("hook", gitEnv({ "core.hooksPath": hooks }));
    expect(result.exitCode).toBe(1);
    expect(gitStep(result.stdout)).toMatchObject({ status: "failed", note: expect.stringContaining("secrets scanner: refusing this commit") });
  });

  it("still says so when no identity is set, and leaves the repository for the user to commit", async () => {
    const result = await create("no-identity", gitEnv({ "user.useConfigOnly": "true" }, false));
    expect(result.exitCode).toBe(0);
    expect(gitStep(result.stdout)).toEqual({ step: "git", status: "done", note: "git repository initialised; commit it yourself (no git identity is set)" });
    const status = await execa("git", ["status", "--porcelain"], { cwd: path.join(root, "no-identity") });
    expect(status.stdout).toContain("A  README.md");
  });
});
