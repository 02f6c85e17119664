import { createHash } from "node:crypto";
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { parse } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { BIN, runCli } from "../support/cli.js";
import { postgresBin, startPostgres } from "../support/postgres.js";
import { projectEnv, serveProject } from "../support/serve.js";
import { readSse } from "../support/sse.js";
import { REPO_ROOT, toolEnv } from "../support/tools.js";

/**
 * The life of one generated project after `create`: its owner edits it, then turns features on
 * with `add` and moves it to a newer generator with `upgrade`. Every owner's edit must survive.
 */

const IDENTITY = { GIT_AUTHOR_NAME: "Owner", GIT_AUTHOR_EMAIL: "owner@example.com", GIT_COMMITTER_NAME: "Owner", GIT_COMMITTER_EMAIL: "owner@example.com" };
const env = { ...IDENTITY };

/** Every file and folder of the project but the tools' own (.git, .venv, caches), hashed with its path. */
async function hashTree(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const skip = new Set([".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"]);
  async function walk(folder: string) {
    for (const entry of (await fs.readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (skip.has(entry.name)) continue;
      const full = path.join(folder, entry.name);
      hash.update(`${path.relative(dir, full)}\0`);
      if (entry.isDirectory()) await walk(full);
      else hash.update(await fs.readFile(full));
    }
  }
  await walk(dir);
  return hash.digest("hex");
}

const git = (dir: string, args: string[]) => execa("git", args, { cwd: dir, env: toolEnv(env) });
const read = (dir: string, file: string) => fs.readFile(path.join(dir, file), "utf8");

const OWNER_ERROR_LINE = '    413: {"model": ErrorResponse, "description": "The request body is too large"},';
/** A field the owner adds to the chat request (the model forbids unknown ones, so a request with it proves it is there). */
const OWNER_FIELD = '    user: str | None = Field(default=None, max_length=64, description="Who asks, for our logs.")';
const OWNER_README = "\n## Team notes\n\nOn call for this API: #ai-backend.\n";

/** initdb and pg_ctl, for add postgres's live check (the generated tests find them themselves). */
const pgBin = postgresBin();

describe("add and upgrade keep the owner's edits", () => {
  let root: string;
  let dir: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-update-"));
    dir = path.join(root, "api");
    // Created by its full path, which the README's re-create line repeats (and the merges must too).
    const created = await runCli([dir, "--yes", "--no-gateway", "--install", "--json"], { env });
    if (created.exitCode !== 0) throw new Error(`create failed:\n${created.stderr}\n${created.stdout}`);
    expect(JSON.parse(created.stdout).steps.map((s: { status: string }) => s.status)).toEqual(["done", "done"]);

    // The owner's edits, as they would make them.
    const chat = await read(dir, "app/routes/chat.py");
    // Anchored on what survives a rewrite of the templates: the table's name, the class and its first field.
    const errors = chat.split("\n").find((line) => line.startsWith("ERROR_RESPONSES"))!;
    await fs.writeFile(path.join(dir, "app/routes/chat.py"), chat.replace(errors, `${errors}\n${OWNER_ERROR_LINE}`));
    const schemas = (await read(dir, "app/schemas.py")).split("\n");
    const request = schemas.findIndex((line) => line.startsWith("class ChatRequest("));
    const messages = schemas.findIndex((line, i) => i > request && line.startsWith("    messages:"));
    schemas.splice(messages + 1, 0, OWNER_FIELD);
    await fs.writeFile(path.join(dir, "app/schemas.py"), schemas.join("\n"));
    await fs.appendFile(path.join(dir, "README.md"), OWNER_README);
    const added = await execa("uv", ["add", "--no-sync", "cachetools>=5"], { cwd: dir, env: toolEnv(), reject: false, all: true });
    expect(added.exitCode, added.all).toBe(0);
    await fs.remove(path.join(dir, "docs/tools.md"));
    await git(dir, ["add", "--all"]);
    await git(dir, ["commit", "--quiet", "--message", "Owner's edits"]);
  });

  afterAll(async () => {
    if (root) await fs.remove(root);
  });

  it("refuses a git work tree with uncommitted changes, and changes nothing", async () => {
    await fs.appendFile(path.join(dir, "README.md"), "work in progress\n");
    const before = await hashTree(dir);
    const result = await runCli(["add", "mcp", dir], { env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/error: .*has uncommitted changes.*README\.md/);
    expect(result.stderr).toContain("--force");
    expect(await hashTree(dir)).toBe(before);
    await git(dir, ["checkout", "README.md"]);
  });

  it("--dry-run prints a unified diff per file and the summary, and writes nothing", async () => {
    const before = await hashTree(dir);
    const result = await runCli(["add", "mcp", dir, "--dry-run"], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("--- /dev/null\n+++ b/app/routes/mcp.py");
    expect(result.stdout).toMatch(/--- a\/app\/api\.py\n\+\+\+ b\/app\/api\.py\n@@ .* @@/);
    expect(result.stdout).toContain("pyproject.toml: merged with your changes");
    expect(result.stdout).toContain("dry run: nothing was written");

    const json = await runCli(["add", "mcp", dir, "--dry-run", "--json"], { env });
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ ok: true, dryRun: true, added: ["mcp"], conflicts: [], base: { precise: true } });
    expect(doc.files).toContainEqual({ path: "app/routes/mcp.py", action: "added", changed: true });
    // Deleted by its owner and not changed by mcp: stays deleted.
    expect(doc.files).toContainEqual({ path: "docs/tools.md", action: "stays-deleted", changed: false });
    expect(await hashTree(dir)).toBe(before);
  });

  it("leaves the project byte-identical after a Ctrl-C while the files are staged", async () => {
    const before = await hashTree(dir);
    const child = execa("node", [BIN, "add", "mcp", dir], {
      reject: false,
      stdin: "ignore",
      env: toolEnv({ ...env, CI: "true", CREATE_FLY_FASTAPI_TEST_PAUSE_STAGED: "1" }),
    });
    await new Promise<void>((resolve, reject) => {
      let seen = "";
      child.stderr!.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes("test hook: staged in")) resolve();
      });
      child.once("exit", () => reject(new Error(`exited before staging:\n${seen}`)));
    });
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(await hashTree(dir)).toBe(before);
    // The staging folder beside the project is gone too.
    expect(await fs.readdir(root)).toEqual(["api"]);
  });

  it("add mcp: the owner's edits stay, the feature works, and git diff shows only what mcp brought", async () => {
    const result = await runCli(["add", "mcp", dir, "--json"], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.conflicts).toEqual([]);
    expect(doc.steps).toEqual([{ step: "lock", status: "done", note: "uv lock" }]);

    expect(await read(dir, "app/routes/chat.py")).toContain(OWNER_ERROR_LINE);
    expect(await read(dir, "app/schemas.py")).toContain(OWNER_FIELD);
    const readme = await read(dir, "README.md");
    expect(readme).toContain(OWNER_README);
    expect(readme).toContain("[MCP server](docs/mcp.md)");
    expect(await fs.pathExists(path.join(dir, "docs/tools.md"))).toBe(false);
    const pyproject = parse(await read(dir, "pyproject.toml")) as { project: { dependencies: string[] }; tool: Record<string, { features: Record<string, boolean> }> };
    expect(pyproject.project.dependencies).toEqual(expect.arrayContaining(["cachetools>=5", expect.stringMatching(/^fastmcp==/)]));
    expect(pyproject.tool["create-fly-fastapi"]!.features.mcp).toBe(true);

    // Only the files the run says it changed, plus the lock it refreshed.
    const status = (await git(dir, ["status", "--porcelain", "--untracked-files=all"])).stdout.split("\n").filter(Boolean).map((line) => line.slice(3));
    const changed = doc.files.filter((f: { changed: boolean }) => f.changed).map((f: { path: string }) => f.path);
    expect(status.sort()).toEqual([...changed, "uv.lock"].sort());
    expect(changed).not.toContain("app/routes/chat.py");
    // pyproject.toml: lines added, and only the recorded mcp switch changed.
    const pyDiff = (await git(dir, ["diff", "--unified=0", "pyproject.toml"])).stdout.split("\n");
    expect(pyDiff.filter((l) => l.startsWith("-") && !l.startsWith("---"))).toEqual(["-mcp = false"]);
    expect(pyDiff.filter((l) => l.startsWith("+") && !l.startsWith("+++"))).toEqual([expect.stringMatching(/^\+ {4}"fastmcp==/), "+mcp = true"]);

    const synced = await execa("uv", ["sync"], { cwd: dir, env: toolEnv(), reject: false, all: true });
    expect(synced.exitCode, synced.all).toBe(0);
    const check = await execa(path.join(dir, ".venv/bin/ruff"), ["check", "."], { cwd: dir, reject: false });
    expect(check.stdout + check.stderr).toContain("All checks passed");
    const format = await execa(path.join(dir, ".venv/bin/ruff"), ["format", "--check", "."], { cwd: dir, reject: false });
    expect(format.exitCode, format.stdout).toBe(0);
    const pytest = await execa(path.join(dir, ".venv/bin/pytest"), ["-q", "-p", "no:cacheprovider"], { cwd: dir, reject: false, env: projectEnv({ CI: "true" }), extendEnv: false });
    expect(pytest.exitCode, pytest.stdout.slice(-3000)).toBe(0);
    expect(pytest.stdout).toMatch(/\d+ passed/);

    const app = await serveProject(dir, {});
    try {
      const response = await fetch(`${app.origin}/v1/chat/stream`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ messages: [{ role: "user", content: "hello" }] }),
      });
      expect(response.status).toBe(200);
      const events = await readSse(response, () => {});
      expect(events.some((e) => e.event === "delta")).toBe(true);
      expect(events.at(-1)?.event).toBe("done");
      // The owner's new error response is in the schema.
      const openapi = await (await fetch(`${app.origin}/openapi.json`)).json();
      expect(openapi.paths["/v1/chat"].post.responses["413"].description).toBe("The request body is too large");
    } finally {
      await app.stop();
    }
    await git(dir, ["add", "--all"]);
    await git(dir, ["commit", "--quiet", "--message", "add mcp"]);
  }, 600_000);

  it.skipIf(!pgBin)("add postgres after mcp: the owner's edits and mcp stay, a chat with a conversation_id is stored, and git diff shows only what postgres brought", async () => {
    const result = await runCli(["add", "postgres", dir, "--json"], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ ok: true, added: ["postgres"], conflicts: [] });
    expect(doc.steps).toEqual([{ step: "lock", status: "done", note: "uv lock" }]);
    // What the next deploy does, for the owner to expect.
    expect(doc.deploy.newServices).toEqual([{ kind: "managed-postgres", secret: "DATABASE_URL", name: expect.stringMatching(/-db$/) }]);

    // Every edit of the owner's is still there, and mcp with them; postgres's field joins the owner's.
    expect(await read(dir, "app/routes/chat.py")).toContain(OWNER_ERROR_LINE);
    const schemas = await read(dir, "app/schemas.py");
    expect(schemas).toContain(OWNER_FIELD);
    expect(schemas).toMatch(/^ {4}conversation_id: uuid\.UUID \| None = Field\(/m);
    expect(doc.files).toContainEqual({ path: "app/schemas.py", action: "merged", changed: true });
    const readme = await read(dir, "README.md");
    expect(readme).toContain(OWNER_README);
    expect(readme).toContain("[MCP server](docs/mcp.md)");
    expect(readme).toContain("(docs/postgres.md)");
    expect(await fs.pathExists(path.join(dir, "docs/tools.md"))).toBe(false);
    expect(await fs.pathExists(path.join(dir, "app/routes/mcp.py"))).toBe(true);
    const pyproject = parse(await read(dir, "pyproject.toml")) as { project: { dependencies: string[] }; tool: Record<string, { features: Record<string, boolean> }> };
    expect(pyproject.project.dependencies).toEqual(
      expect.arrayContaining(["cachetools>=5", expect.stringMatching(/^fastmcp==/), expect.stringMatching(/^sqlalchemy/i), expect.stringMatching(/^asyncpg/), expect.stringMatching(/^alembic/)]),
    );
    expect(pyproject.tool["create-fly-fastapi"]!.features).toMatchObject({ mcp: true, postgres: true });
    expect(await read(dir, "fly.toml")).toContain('release_command = "alembic upgrade head"');

    // Only the files the run says it changed, plus the lock it refreshed with them.
    const status = (await git(dir, ["status", "--porcelain", "--untracked-files=all"])).stdout.split("\n").filter(Boolean).map((line) => line.slice(3));
    const changed = doc.files.filter((f: { changed: boolean }) => f.changed).map((f: { path: string }) => f.path);
    expect(status.sort()).toEqual([...changed, "uv.lock"].sort());
    expect(changed).toEqual(expect.arrayContaining(["app/schemas.py", "fly.toml", "Dockerfile", "docs/postgres.md", "alembic.ini"]));
    const pyDiff = (await git(dir, ["diff", "--unified=0", "pyproject.toml"])).stdout.split("\n");
    expect(pyDiff.filter((l) => l.startsWith("-") && !l.startsWith("---"))).toEqual(["-postgres = false"]);

    const synced = await execa("uv", ["sync"], { cwd: dir, env: toolEnv(), reject: false, all: true });
    expect(synced.exitCode, synced.all).toBe(0);
    const check = await execa(path.join(dir, ".venv/bin/ruff"), ["check", "."], { cwd: dir, reject: false });
    expect(check.stdout + check.stderr).toContain("All checks passed");
    const format = await execa(path.join(dir, ".venv/bin/ruff"), ["format", "--check", "."], { cwd: dir, reject: false });
    expect(format.exitCode, format.stdout).toBe(0);
    // No DATABASE_URL: the generated tests start their own PostgreSQL with initdb.
    const pytest = await execa(path.join(dir, ".venv/bin/pytest"), ["-q", "-p", "no:cacheprovider", "-rs"], { cwd: dir, reject: false, env: projectEnv({ CI: "true" }), extendEnv: false });
    expect(pytest.exitCode, pytest.stdout.slice(-3000)).toBe(0);
    expect(pytest.stdout).toMatch(/\d+ passed/);
    expect(pytest.stdout).not.toMatch(/SKIPPED.*PostgreSQL/);

    // Live: migrated with the release_command, served against a real PostgreSQL, a chat is stored.
    const postgres = await startPostgres(pgBin!);
    try {
      const migrated = await execa(path.join(dir, ".venv/bin/alembic"), ["upgrade", "head"], { cwd: dir, env: projectEnv({ DATABASE_URL: postgres.url }), extendEnv: false, reject: false, all: true });
      expect(migrated.exitCode, migrated.all).toBe(0);
      const app = await serveProject(dir, { DATABASE_URL: postgres.url });
      try {
        const conversation = randomUUID();
        const response = await fetch(`${app.origin}/v1/chat/stream`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream" },
          // The owner's field and postgres's in one request: the model forbids unknown fields.
          body: JSON.stringify({ messages: [{ role: "user", content: "hello there" }], user: "alice", conversation_id: conversation }),
        });
        expect(response.status).toBe(200);
        const events = await readSse(response, () => {});
        expect(events.some((e) => e.event === "delta")).toBe(true);
        const done = events.find((e) => e.event === "done");
        expect(done, JSON.stringify(events)).toBeDefined();
        expect(JSON.parse(done!.data!)).toMatchObject({ conversation_id: conversation, stored: true });
        const stored = await fetch(`${app.origin}/v1/conversations/${conversation}`);
        expect(stored.status).toBe(200);
        expect(((await stored.json()).messages as { role: string; content: string }[]).map((m) => [m.role, m.content])).toEqual([
          ["user", "hello there"],
          ["assistant", "hello there"],
        ]);
        // The owner's error response and mcp's routes are still served.
        const openapi = await (await fetch(`${app.origin}/openapi.json`)).json();
        expect(openapi.paths["/v1/chat"].post.responses["413"].description).toBe("The request body is too large");
      } finally {
        await app.stop();
      }
    } finally {
      await postgres.remove();
    }
    await git(dir, ["add", "--all"]);
    await git(dir, ["commit", "--quiet", "--message", "add postgres"]);
  }, 600_000);

  it("a conflicting edit: markers in that file only, listed, exit 1, every other file merged", async () => {
    const api = await read(dir, "app/api.py");
    const routes = api.split("\n").find((line) => line.startsWith("from app.routes import "))!;
    await fs.writeFile(path.join(dir, "app/api.py"), api.replace(routes, `${routes}  # the API's routers`));
    await git(dir, ["commit", "--quiet", "--all", "--message", "Owner's comment on the routers"]);

    const result = await runCli(["add", "gateway", dir, "--json"], { env });
    expect(result.exitCode).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.conflicts).toEqual(["app/api.py"]);
    expect(doc.error.code).toBe("merge_conflicts");
    const merged = await read(dir, "app/api.py");
    expect(merged).toMatch(/<<<<<<< yours\n.*# the API's routers\n(\|\|\|\|\|\|\| .*\n.*\n)?=======\nfrom app\.routes import .*gateway.*\n>>>>>>> generated by 0\.1\.0\n/);
    const changed = doc.files.filter((f: { changed: boolean }) => f.changed).map((f: { path: string }) => f.path);
    expect(changed).toEqual(expect.arrayContaining(["app/routes/gateway.py", "docs/gateway.md", "README.md", "pyproject.toml"]));
    for (const file of changed.filter((f: string) => f !== "app/api.py")) {
      expect(await read(dir, file), file).not.toContain("<<<<<<<");
    }
    expect(await read(dir, "README.md")).toContain(OWNER_README);
    // Back to the project before the conflicting edit, for the upgrade.
    await git(dir, ["reset", "--quiet", "--hard", "HEAD~1"]);
    await git(dir, ["clean", "--quiet", "-d", "--force"]);
  });

  it("upgrade to a newer generator, turning the gateway on in the same step: its fix and the owner's edit of the same file both survive", async () => {
    // This version, packed as npm publishes it: what the newer one re-renders the base with.
    const packed = await execa("npm", ["pack", "--silent", "--pack-destination", root], { cwd: REPO_ROOT });
    const current = path.join(root, packed.stdout.trim().split("\n").pop()!);
    // The next version: a copy of the repository with a fix in chat.py's templates, built and packed.
    const next = path.join(root, "next");
    for (const part of ["src", "scripts", "templates", "bin", "package.json", "tsconfig.json"]) await fs.copy(path.join(REPO_ROOT, part), path.join(next, part));
    await fs.symlink(path.join(REPO_ROOT, "node_modules"), path.join(next, "node_modules"));
    const pkg = await fs.readJson(path.join(next, "package.json"));
    await fs.writeJson(path.join(next, "package.json"), { ...pkg, version: "0.1.1" }, { spaces: 2 });
    const chatTemplate = path.join(next, "templates/core/app/routes/chat.py");
    const fixed = '"""The whole answer as one JSON document. Provider failures become HTTP errors (ERROR_RESPONSES)."""';
    await fs.writeFile(chatTemplate, (await fs.readFile(chatTemplate, "utf8")).replace('"""The whole answer as one JSON document. Provider failures become HTTP errors."""', fixed));
    // The fix's own test, as the generator's change would carry it.
    const toolsTest = path.join(next, "templates/tools/tests/test_tools.py");
    await fs.writeFile(toolsTest, (await fs.readFile(toolsTest, "utf8")).replace("Provider failures become HTTP errors.", "Provider failures become HTTP errors (ERROR_RESPONSES)."));
    await execa("node", ["scripts/build.mjs"], { cwd: next });
    const nextPacked = await execa("npm", ["pack", "--silent", "--pack-destination", root], { cwd: next });
    const nextTarball = path.join(root, nextPacked.stdout.trim().split("\n").pop()!);
    expect(path.basename(nextTarball)).toBe("create-fly-fastapi-0.1.1.tgz");

    const upgrade = (args: string[], basePackage: string) =>
      execa("npm", ["exec", "--yes", `--package=${nextTarball}`, "--", "create-fly-fastapi", "upgrade", dir, ...args], {
        cwd: root,
        reject: false,
        stdin: "ignore",
        env: toolEnv({ ...env, CI: "true", CREATE_FLY_FASTAPI_BASE_PACKAGE: basePackage }),
      });

    // Without the recorded version to re-render, one line says so and the merge is marked less precise.
    const unavailable = await upgrade(["--dry-run", "--json"], path.join(root, "missing-0.1.0.tgz"));
    expect(unavailable.exitCode, unavailable.stderr).toBe(0);
    expect(JSON.parse(unavailable.stdout).base.precise).toBe(false);
    expect(unavailable.stderr).toMatch(/missing-0\.1\.0\.tgz is unavailable .*less precise/);

    const before = await read(dir, "app/routes/chat.py");
    expect(before).not.toContain(fixed);
    const result = await upgrade(["--gateway", "--json"], current);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ ok: true, from: "0.1.0", to: "0.1.1", base: { precise: true }, conflicts: [], added: ["gateway"] });
    expect(doc.files).toContainEqual({ path: "app/routes/chat.py", action: "merged", changed: true });
    const chat = await read(dir, "app/routes/chat.py");
    expect(chat).toContain(fixed);
    expect(chat).toContain(OWNER_ERROR_LINE);
    expect(await read(dir, "app/schemas.py")).toContain(OWNER_FIELD);
    const readme = await read(dir, "README.md");
    expect(readme).toContain("npx create-fly-fastapi@0.1.1 ");
    expect(readme).toContain(OWNER_README);
    const recorded = (parse(await read(dir, "pyproject.toml")) as { tool: Record<string, { version: string }> }).tool["create-fly-fastapi"]!;
    expect(recorded.version).toBe("0.1.1");
    expect(readme).toContain("(docs/gateway.md)");

    // The upgraded project still lints, passes its tests, and its new gateway answers.
    const check = await execa(path.join(dir, ".venv/bin/ruff"), ["check", "."], { cwd: dir, reject: false });
    expect(check.stdout + check.stderr).toContain("All checks passed");
    const pytest = await execa(path.join(dir, ".venv/bin/pytest"), ["-q", "-p", "no:cacheprovider"], { cwd: dir, reject: false, env: projectEnv({ CI: "true" }), extendEnv: false });
    expect(pytest.exitCode, pytest.stdout.slice(-3000)).toBe(0);
    const app = await serveProject(dir, {});
    try {
      const models = await fetch(`${app.origin}/v1/models`);
      expect(models.status).toBe(200);
      expect((await models.json()).object).toBe("list");
    } finally {
      await app.stop();
    }
  }, 600_000);
});

describe("add in a terminal", () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-update-tty-"));
    const created = await runCli(["tty-api", "--yes", "--no-install", "--no-git"], { cwd: root });
    expect(created.exitCode, created.stderr).toBe(0);
  });
  afterAll(async () => {
    if (root) await fs.remove(root);
  });

  it("asks which features, shows the ones already on as such, and asks before writing", async () => {
    const DOWN = "\x1b[B";
    const script = {
      argv: ["node", BIN, "add"],
      cwd: path.join(root, "tty-api"),
      timeout: 60,
      steps: [
        // ui, github-actions, gateway, tools, mcp: mcp is the fifth.
        ["Which features to add", `${DOWN.repeat(4)} \r`],
        ["Write \\d+ files\\?", "\r"],
        ["Done: review with git diff", ""],
      ],
    };
    const driven = await execa("python3", [path.join(REPO_ROOT, "test/support/pty_drive.py"), JSON.stringify(script)], { env: toolEnv() });
    const run = JSON.parse(driven.stdout) as { exit: number; output: string; unmatched: string[] };
    expect(run.unmatched, run.output).toEqual([]);
    expect(run.exit).toBe(0);
    expect(run.output).toMatch(/already on/);
    expect(run.output).toContain("app/routes/mcp.py: added");
    const recorded = (parse(await read(path.join(root, "tty-api"), "pyproject.toml")) as { tool: Record<string, { features: Record<string, boolean> }> }).tool["create-fly-fastapi"]!;
    expect(recorded.features.mcp).toBe(true);
  }, 120_000);

  it("remove takes a feature off again: its files go, the record says so, an owner's file of it stays", async () => {
    const dir = path.join(root, "tty-api");
    await fs.appendFile(path.join(dir, "docs/mcp.md"), "\nOur MCP clients: Claude Desktop.\n");
    const result = await runCli(["remove", "mcp", dir, "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.removed).toEqual(["mcp"]);
    expect(doc.files).toContainEqual({ path: "app/routes/mcp.py", action: "removed", changed: true });
    expect(doc.files).toContainEqual({ path: "docs/mcp.md", action: "kept-changed", changed: false });
    expect(await fs.pathExists(path.join(dir, "app/routes/mcp.py"))).toBe(false);
    expect(await read(dir, "docs/mcp.md")).toContain("Our MCP clients");
    expect(await read(dir, "app/api.py")).not.toContain("mcp");
    const recorded = (parse(await read(dir, "pyproject.toml")) as { tool: Record<string, { features: Record<string, boolean> }> }).tool["create-fly-fastapi"]!;
    expect(recorded.features.mcp).toBe(false);
  });
});

describe("a feature whose deploy provisioned a database", () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-update-pg-"));
    const created = await runCli(["pg-api", "--yes", "--postgres", "--no-install", "--no-git"], { cwd: root });
    expect(created.exitCode, created.stderr).toBe(0);
  });
  afterAll(async () => {
    if (root) await fs.remove(root);
  });

  it("is refused by remove and by upgrade --no-postgres, in one line, and the project is left as it was", async () => {
    const dir = path.join(root, "pg-api");
    const before = await hashTree(dir);
    for (const argv of [["remove", "postgres", dir], ["upgrade", "--no-postgres", dir]]) {
      const result = await runCli(argv);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(/error: cannot remove cleanly: postgres \(its deploy provisioned postgres-create, postgres-attach on Fly/);
      expect(result.stderr.split("\n").filter((line) => line.startsWith("error:"))).toHaveLength(1);
    }
    expect(await hashTree(dir)).toBe(before);
    const recorded = (parse(await read(dir, "pyproject.toml")) as { tool: Record<string, { features: Record<string, boolean> }> }).tool["create-fly-fastapi"]!;
    expect(recorded.features.postgres).toBe(true);
  });

  it("does not refuse ratelimit, whose Redis only a deploy with --redis provisions, and says that one stays on Fly", async () => {
    const dir = path.join(root, "pg-api");
    const before = await hashTree(dir);
    const result = await runCli(["remove", "ratelimit", dir, "--dry-run"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toContain("turns off: ratelimit");
    expect(output).toContain("if a deploy ran with --redis, what it provisioned for ratelimit (rate_limit_redis) stays on Fly");
    expect(output).toContain("dry run: nothing was written");
    expect(await hashTree(dir)).toBe(before);
  });
});

describe("the lock refreshed with the change", () => {
  let root: string;
  let dir: string;
  let fakeBin: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-update-lock-"));
    dir = path.join(root, "locked-api");
    const created = await runCli(["locked-api", "--yes", "--no-install", "--no-git"], { cwd: root });
    expect(created.exitCode, created.stderr).toBe(0);
    await fs.writeFile(path.join(dir, "uv.lock"), "version = 1\n# the owner's lock\n");
    // A uv whose resolution fails, as it does for a pin that conflicts or without PyPI.
    fakeBin = path.join(root, "bin");
    await fs.outputFile(path.join(fakeBin, "uv"), "#!/bin/sh\necho '  × No solution found when resolving dependencies:' >&2\necho 'error: fastmcp==9.9 is unavailable' >&2\nexit 1\n", { mode: 0o755 });
  });
  afterAll(async () => {
    if (root) await fs.remove(root);
  });

  it("a uv lock that fails on the staged copy leaves the project as it was, in one line naming the cause and the fix", async () => {
    const before = await hashTree(dir);
    const result = await runCli(["add", "mcp", dir], { env: { PATH: `${fakeBin}${path.delimiter}${process.env.PATH}` } });
    expect(result.exitCode).toBe(1);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("error:"));
    expect(errors).toEqual(["error: uv lock failed on the changed pyproject.toml (error: fastmcp==9.9 is unavailable): nothing was changed"]);
    expect(result.stderr).toContain("hint: fix its cause (a pin of yours the new dependencies conflict with, or PyPI out of reach), then run add again");
    expect(await hashTree(dir)).toBe(before);
    expect(await fs.readdir(root)).toEqual(["bin", "locked-api"].sort());
    const json = await runCli(["add", "mcp", dir, "--json"], { env: { PATH: `${fakeBin}${path.delimiter}${process.env.PATH}` } });
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: "lock_failed" } });
    expect(await hashTree(dir)).toBe(before);
  });

  it("without uv on PATH the change is written and a warning says the command that refreshes the lock", async () => {
    // git and node stay reachable; uv does not.
    const bare = [path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter);
    const result = await runCli(["add", "mcp", dir], { env: { PATH: bare }, cwd: root });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain("warning: uv is not on PATH: run cd locked-api && uv lock");
    expect(await fs.pathExists(path.join(dir, "app/routes/mcp.py"))).toBe(true);
    expect(await read(dir, "uv.lock")).toBe("version = 1\n# the owner's lock\n");
  });
});
