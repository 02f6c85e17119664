import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ProjectOptions } from "../../src/options.js";
import type { Plan } from "../../src/plan.js";
import { UserError } from "../../src/errors.js";
import { checkTarget, writePlan } from "../../src/write.js";

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-write-"));
});
afterEach(async () => {
  await fs.chmod(root, 0o755).catch(() => {});
  await fs.remove(root);
});

function planFor(directory: string): Plan {
  return {
    options: { directory } as ProjectOptions,
    features: ["core"],
    files: [
      { path: "README.md", content: "# new\n" },
      { path: "app/main.py", content: "app = None\n" },
    ],
    nextSteps: [],
    deploy: { provisioning: [], secrets: [] },
    command: "",
  };
}

const tree = async (dir: string) =>
  (await fs.readdir(dir, { recursive: true })).map(String).sort();

describe("writing a plan", () => {
  it("creates missing parent folders and leaves no staging folder behind", async () => {
    const plan = planFor(path.join(root, "a/b/project"));
    await writePlan(plan, await checkTarget(plan, false));
    expect(await fs.readFile(path.join(root, "a/b/project/app/main.py"), "utf8")).toBe("app = None\n");
    // Not the staging folder's private 0700: others may read it, as with any new folder.
    expect((await fs.stat(path.join(root, "a/b/project"))).mode & 0o777).toBe(0o777 & ~process.umask());
    expect(await tree(root)).toEqual(["a", "a/b", "a/b/project", "a/b/project/README.md", "a/b/project/app", "a/b/project/app/main.py"]);
  });

  it("writes into an existing empty directory", async () => {
    await fs.mkdir(path.join(root, "empty"));
    const plan = planFor(path.join(root, "empty"));
    await writePlan(plan, await checkTarget(plan, false));
    expect(await tree(path.join(root, "empty"))).toEqual(["README.md", "app", "app/main.py"]);
  });

  it("refuses a non-empty directory without --force, and writes nothing", async () => {
    await fs.outputFile(path.join(root, "p/notes.txt"), "mine");
    const plan = planFor(path.join(root, "p"));
    await expect(checkTarget(plan, false)).rejects.toThrow("is not empty: choose a new directory, or pass --force");
    expect(await tree(root)).toEqual(["p", "p/notes.txt"]);
  });

  it("with --force replaces only the planned files and keeps the user's others", async () => {
    await fs.outputFile(path.join(root, "p/notes.txt"), "mine");
    await fs.outputFile(path.join(root, "p/README.md"), "old");
    const plan = planFor(path.join(root, "p"));
    const target = await checkTarget(plan, true);
    expect(target.overwrites).toEqual(["README.md"]);
    await writePlan(plan, target);
    expect(await fs.readFile(path.join(root, "p/notes.txt"), "utf8")).toBe("mine");
    expect(await fs.readFile(path.join(root, "p/README.md"), "utf8")).toBe("# new\n");
    expect(await tree(root)).toEqual(["p", "p/README.md", "p/app", "p/app/main.py", "p/notes.txt"]);
  });

  it("refuses a path that is a file", async () => {
    await fs.outputFile(path.join(root, "file"), "x");
    await expect(checkTarget(planFor(path.join(root, "file")), true)).rejects.toThrow("is a file, not a directory");
  });

  it.skipIf(process.getuid?.() === 0)("refuses an unwritable parent", async () => {
    await fs.chmod(root, 0o555);
    await expect(checkTarget(planFor(path.join(root, "p")), false)).rejects.toThrow("permission denied");
  });

  it("writes a directory whose name takes all 255 bytes a name may have", async () => {
    const plan = planFor(path.join(root, "ü".repeat(127) + "x"));
    await writePlan(plan, await checkTarget(plan, false));
    expect(await tree(path.join(root, "ü".repeat(127) + "x"))).toEqual(["README.md", "app", "app/main.py"]);
  });

  it("refuses a name too long for the file system in one line, and writes nothing", async () => {
    const directory = path.join(root, "x".repeat(256));
    const plan = planFor(directory);
    const error = await writePlan(plan, await checkTarget(plan, false)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ message: `a file name is too long for the file system while writing ${directory}`, hint: "choose a shorter directory name" });
    expect(await tree(root)).toEqual([]);
  });

  it("leaves nothing behind when a write fails half-way", async () => {
    const plan = planFor(path.join(root, "p"));
    // A file path that cannot be created (a file inside a file) fails after the first write.
    plan.files.push({ path: "README.md/oops", content: "x" });
    await expect(writePlan(plan, await checkTarget(plan, false))).rejects.toThrow();
    expect(await tree(root)).toEqual([]);
  });
});

describe("applyChanges", () => {
  it("moves every change in, or on a failure puts everything back as it was", async () => {
    const { applyChanges } = await import("../../src/write.js");
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cff-apply-"));
    try {
      await fs.outputFile(path.join(dir, "README.md"), "mine\n");
      await fs.outputFile(path.join(dir, "app/gone.py"), "old\n");
      await fs.outputFile(path.join(dir, "notes"), "a file where a folder would go\n");
      const snapshot = async () => Object.fromEntries(await Promise.all(["README.md", "app/gone.py", "notes"].map(async (f) => [f, await fs.readFile(path.join(dir, f), "utf8")])));
      const before = await snapshot();
      // The last change cannot be moved in (its folder is a file): the first two are undone.
      await expect(
        applyChanges(dir, [
          { path: "README.md", content: "new\n" },
          { path: "app/gone.py", content: undefined },
          { path: "docs/new.md", content: "new page\n" },
          { path: "notes/inside.md", content: "x\n" },
        ]),
      ).rejects.toThrow();
      expect(await snapshot()).toEqual(before);
      expect(await fs.pathExists(path.join(dir, "docs"))).toBe(false);
      expect((await fs.readdir(path.dirname(dir))).filter((f) => f.startsWith(".create-fly-fastapi.staging-") || f.startsWith(`.${path.basename(dir)}.staging-`))).toEqual([]);

      await applyChanges(dir, [
        { path: "README.md", content: "new\n" },
        { path: "app/gone.py", content: undefined },
        { path: "docs/new.md", content: "new page\n" },
      ]);
      expect(await fs.readFile(path.join(dir, "README.md"), "utf8")).toBe("new\n");
      expect(await fs.pathExists(path.join(dir, "app/gone.py"))).toBe(false);
      expect(await fs.readFile(path.join(dir, "docs/new.md"), "utf8")).toBe("new page\n");
    } finally {
      await fs.remove(dir);
    }
  });

  it("moves in what its prepare step derives from the staged files, and a prepare that fails leaves the project as it was", async () => {
    const { applyChanges } = await import("../../src/write.js");
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-prepare-"));
    const dir = path.join(root, "api");
    try {
      await fs.outputFile(path.join(dir, "pyproject.toml"), "deps = [a]\n");
      await fs.outputFile(path.join(dir, "uv.lock"), "locked: a\n");
      // A lock derived from the staged pyproject.toml, as `uv lock` in a staged copy is.
      const lockFromStaged = async ({ staged, scratch }: { staged: string; scratch: string }) => {
        expect(await fs.readdir(scratch)).toEqual([]);
        const deps = await fs.readFile(path.join(staged, "pyproject.toml"), "utf8");
        return [{ path: "uv.lock", content: `locked: ${/\[(.*)\]/.exec(deps)![1]}\n` }];
      };
      const failing = async () => {
        throw new UserError("uv lock failed on the changed pyproject.toml (no solution): nothing was changed");
      };
      await expect(applyChanges(dir, [{ path: "pyproject.toml", content: "deps = [a, b]\n" }, { path: "docs/b.md", content: "b\n" }], failing)).rejects.toThrow(
        "uv lock failed on the changed pyproject.toml (no solution): nothing was changed",
      );
      expect(await fs.readFile(path.join(dir, "pyproject.toml"), "utf8")).toBe("deps = [a]\n");
      expect(await fs.readFile(path.join(dir, "uv.lock"), "utf8")).toBe("locked: a\n");
      expect(await fs.readdir(root)).toEqual(["api"]);
      expect((await fs.readdir(dir)).sort()).toEqual(["pyproject.toml", "uv.lock"]);

      await applyChanges(dir, [{ path: "pyproject.toml", content: "deps = [a, b]\n" }, { path: "docs/b.md", content: "b\n" }], lockFromStaged);
      expect(await fs.readFile(path.join(dir, "pyproject.toml"), "utf8")).toBe("deps = [a, b]\n");
      expect(await fs.readFile(path.join(dir, "uv.lock"), "utf8")).toBe("locked: a, b\n");
      expect(await fs.readFile(path.join(dir, "docs/b.md"), "utf8")).toBe("b\n");
      expect(await fs.readdir(root)).toEqual(["api"]);
    } finally {
      await fs.remove(root);
    }
  });
});
