import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENERATOR } from "../../src/meta.js";
import { OPTIONS } from "../../src/options.js";
import { BIN, runCli } from "../support/cli.js";

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-cli-"));
  await fs.chmod(root, 0o755);
});
afterAll(async () => {
  await fs.remove(root);
});

const listing = async (dir: string) => (await fs.readdir(dir, { recursive: true })).map(String).sort();
const offline = ["--no-install", "--no-git"];

describe("the command line", () => {
  it("--help lists every declared option and its choices", async () => {
    const result = await runCli(["--help"]);
    expect(result.exitCode).toBe(0);
    for (const decl of OPTIONS.filter((o) => o.commands.includes("create"))) {
      // Each optional feature, like every on/off option, is a flag pair.
      if (decl.type === "boolean" && decl.scope !== "run") {
        expect(result.stdout).toContain(`--${decl.flag}, --no-${decl.flag}`);
        continue;
      }
      expect(result.stdout).toContain(`--${decl.flag}`);
      if (decl.type === "choice") expect(result.stdout).toContain(decl.choices.map((c) => c.value).join(", "));
    }
  });

  it("--version prints the package version", async () => {
    const result = await runCli(["--version"]);
    expect(result.stdout.trim()).toBe(GENERATOR.version);
  });

  it("--dry-run prints the file tree with sizes and writes nothing", async () => {
    const dir = path.join(root, "dry");
    const result = await runCli([dir, "--yes", "--dry-run"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/app\/\n\s+__init__\.py/);
    expect(result.stdout).toMatch(/Dockerfile\s+[\d.]+ (B|KiB)/);
    expect(result.stdout).toMatch(/\d+ files, [\d.]+ KiB/);
    expect(result.stdout).toContain("dry run: nothing was written");
    expect(await fs.pathExists(dir)).toBe(false);
  });

  it("--json --dry-run prints exactly one JSON document with options, files and next steps", async () => {
    const dir = path.join(root, "json-dry");
    const result = await runCli([dir, "--provider", "groq", "--yes", "--dry-run", "--json"]);
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ ok: true, dryRun: true, options: { provider: "groq", name: "json-dry", region: "iad" } });
    expect(doc.files.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(["fly.toml", "Dockerfile", "app/main.py", "pyproject.toml"]));
    expect(doc.nextSteps.at(-1)).toContain("deploy");
    expect(doc.command).toContain("--provider groq");
    expect(await fs.pathExists(dir)).toBe(false);
  });

  it("--json writes the project and keeps stdout to the document alone", async () => {
    const dir = path.join(root, "json-real");
    const result = await runCli([dir, "--yes", "--json", ...offline]);
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.dryRun).toBe(false);
    expect((await listing(dir)).filter((f) => !f.includes("/"))).toEqual(
      expect.arrayContaining([".dockerignore", ".env.example", ".gitignore", "Dockerfile", "README.md", "app", "fly.toml", "pyproject.toml", "tests"]),
    );
    for (const file of doc.files) expect(await fs.pathExists(path.join(dir, file.path))).toBe(true);
  });

  it("prints the equivalent command line, and running it re-creates the same files", async () => {
    const first = path.join(root, "first/again");
    const result = await runCli([first, "--provider", "openrouter", "--region", "fra", "--python-tool", "pip", "--yes", ...offline]);
    expect(result.exitCode).toBe(0);
    const command = result.stdout.match(/Re-create this project: (.*)/)![1]!;
    expect(command).toContain("--provider openrouter --base-url https://openrouter.ai/api/v1");
    const words = command.split(" ").slice(2); // drop "npx create-fly-fastapi@x"
    // The directory comes last, after "--", so no directory name can be read as an option.
    expect(words.slice(-2)).toEqual(["--", first]);
    const second = path.join(root, "second/again");
    const rerun = await runCli([...words.slice(0, -1), second]);
    expect(rerun.exitCode).toBe(0);
    for (const file of await listing(first)) {
      if ((await fs.stat(path.join(first, file))).isFile()) {
        expect(await fs.readFile(path.join(second, file), "utf8"), file).toBe(await fs.readFile(path.join(first, file), "utf8"));
      }
    }
  });

  describe("bad input: an error line and a hint line on stderr, exit 1, nothing written", () => {
    it.each([
      [["--name", "Not_Valid"], "invalid app name"],
      [["--provider", "anthropic"], 'unknown provider "anthropic"'],
      [["--region", "mars"], 'unknown region "mars"'],
      [["--provider", "custom"], "missing --base-url <url>"],
      [["--provider", "custom", "--base-url", "localhost:8000"], "must start with http:// or https://"],
      [["--python-tool", "conda"], 'unknown python-tool "conda"'],
      [["--bogus"], "unknown option --bogus"],
    ])("%j", async (args, message) => {
      const dir = path.join(root, `bad-${Math.random().toString(36).slice(2)}`);
      const result = await runCli([dir, ...args, "--yes", ...offline]);
      expect(result.exitCode).toBe(1);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[1]).toMatch(/^hint: ./);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
      expect(await fs.pathExists(dir)).toBe(false);
    });

    it("without a terminal and without --yes it fails at once naming the flags to pass", async () => {
      const dir = path.join(root, "no-tty");
      const result = await runCli([dir]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain("no terminal to ask in: pass --yes");
      expect(await fs.pathExists(dir)).toBe(false);
    });

    it("--help lists every flag the no-terminal error names", async () => {
      const result = await runCli([]);
      expect(result.exitCode).toBe(1);
      const named = [...result.stderr.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]);
      expect(named).toEqual(expect.arrayContaining(["--yes", "--directory", "--name", "--git", "--no-git"]));
      const help = (await runCli(["--help"])).stdout;
      for (const flag of new Set(named)) expect(help, flag).toMatch(new RegExp(`(^|[ ,])${flag}([ ,]|$)`, "m"));
    });

    it("refuses a path that is a file", async () => {
      const file = path.join(root, "a-file");
      await fs.writeFile(file, "keep me");
      const result = await runCli([file, "--yes", ...offline]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain("is a file, not a directory");
      expect(await fs.readFile(file, "utf8")).toBe("keep me");
    });

    it("refuses a non-empty directory without --force; with --force replaces only planned files", async () => {
      const dir = path.join(root, "non-empty");
      await fs.outputFile(path.join(dir, "notes.md"), "mine");
      await fs.outputFile(path.join(dir, "README.md"), "my readme");
      const refused = await runCli([dir, "--yes", ...offline]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain("is not empty");
      expect(await listing(dir)).toEqual(["README.md", "notes.md"]);

      const forced = await runCli([dir, "--yes", "--force", ...offline]);
      expect(forced.exitCode).toBe(0);
      expect(forced.stdout).toContain("replaced: README.md");
      expect(await fs.readFile(path.join(dir, "notes.md"), "utf8")).toBe("mine");
      expect(await fs.readFile(path.join(dir, "README.md"), "utf8")).not.toBe("my readme");
    });

    it("refuses an unwritable parent (run as an unprivileged user)", async (ctx) => {
      const setpriv = await execa("setpriv", ["--version"], { reject: false });
      if (setpriv.exitCode !== 0 || process.getuid?.() !== 0) ctx.skip();
      const locked = path.join(root, "locked");
      await fs.mkdir(locked, { mode: 0o555 });
      await fs.chmod(locked, 0o555);
      const result = await execa(
        "setpriv",
        ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "node", BIN, path.join(locked, "app"), "--yes", ...offline],
        { reject: false, env: { CI: "true", HOME: root } },
      );
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`cannot write to ${locked}: permission denied`);
      expect(await fs.readdir(locked)).toEqual([]);
    });
  });
});

describe("--json when it fails: one document on stdout, the same exit code, the error on stderr too", () => {
  it.each([
    ["no terminal and no --yes", (dir: string) => [dir, "--json"], "no_terminal", "no terminal to ask in", "--yes"],
    ["an unknown provider", (dir: string) => [dir, "--provider", "anthropic", "--yes", "--json"], "invalid_option", 'unknown provider "anthropic"', "--provider groq"],
    ["a missing value", (dir: string) => [dir, "--provider", "custom", "--yes", "--json"], "missing_option", "missing --base-url <url>", "--base-url https://"],
    ["an unknown flag", (dir: string) => [dir, "--bogus", "--json"], "unknown_option", "unknown option --bogus", "--help"],
    ["--dry-run with --deploy", (dir: string) => [dir, "--yes", "--dry-run", "--deploy", "--json"], "conflicting_options", "--dry-run writes nothing", "drop --deploy"],
    ["a flag deploy does not take", () => ["deploy", "--provider", "groq", "--json"], "not_for_this_command", "--provider is chosen when a project is created", "deploy takes a directory, --name, --org, --regions"],
  ])("%s", async (_kind, args, code, message, hint) => {
    const dir = path.join(root, `json-fail-${Math.random().toString(36).slice(2)}`);
    const result = await runCli(args(dir));
    expect(result.exitCode).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(Object.keys(doc)).toEqual(["ok", "error"]);
    expect(doc).toEqual({ ok: false, error: { code, message: expect.stringContaining(message), hint: expect.stringContaining(hint) } });
    expect(result.stderr).toContain(`error: ${doc.error.message}`);
    expect(await fs.pathExists(dir)).toBe(false);
  });

  it("a non-empty directory: the document says so, and nothing is lost", async () => {
    const dir = path.join(root, "json-non-empty");
    await fs.outputFile(path.join(dir, "notes.md"), "mine");
    const result = await runCli([dir, "--yes", "--json", ...offline]);
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ ok: false, error: { code: "directory_not_empty", message: expect.stringContaining("is not empty"), hint: expect.stringContaining("--force") } });
    expect(await listing(dir)).toEqual(["notes.md"]);
  });
});

describe("the published bundle", () => {
  it("writes exactly the files the planner renders from the template sources (precompiled templates match)", async () => {
    const { planProject } = await import("../../src/plan.js");
    const { resolveOptions } = await import("../../src/resolve.js");
    for (const args of [[], ["--provider", "custom", "--base-url", "https://x.test/v1", "--model", `m "q"`, "--python-tool", "pip", "--mcp"]]) {
      const dir = path.join(root, `bundle-${args.length}`);
      const result = await runCli([dir, ...args, "--yes", ...offline, "--json"]);
      expect(result.exitCode, result.stderr).toBe(0);
      const doc = JSON.parse(result.stdout);
      const plan = planProject(await resolveOptions({ ...doc.options, directory: dir }, { kind: "defaults" }));
      expect(plan.files.length).toBeGreaterThan(20);
      for (const file of plan.files) {
        expect(await fs.readFile(path.join(dir, file.path), "utf8"), file.path).toBe(file.content);
      }
    }
  });
});
