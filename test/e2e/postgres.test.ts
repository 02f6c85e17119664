/**
 * --postgres end to end: one generated project (default features: API keys, rate limit,
 * metrics) served by two uvicorn processes that share one PostgreSQL cluster, started here
 * with initdb + pg_ctl on 127.0.0.1. Every wait is bounded and polls something observable.
 */
import { execa } from "execa";
import fs from "fs-extra";
import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { bearer, eventually, scrape } from "../support/hardening.js";
import { postgresBin, startPostgres, type PostgresCluster } from "../support/postgres.js";
import { projectEnv, serveProject, type RunningApp } from "../support/serve.js";
import { readSse, type SseEvent } from "../support/sse.js";

const KEY_A = "sk-api-e2e-key-a-0123456789abcdef";
const KEY_B = "sk-api-e2e-key-b-0123456789abcdef";
const bin = postgresBin();
if (!bin) console.warn("postgres e2e skipped: no initdb on PATH or in /usr/lib/postgresql/*/bin (install Debian's postgresql)");

interface Stored {
  role: string;
  content: string;
  status: string;
  interruption: string | null;
}

const words = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`).join(" ");

describe.skipIf(!bin)("generated project with --postgres", () => {
  let root: string;
  let dir: string;
  let postgres: PostgresCluster;
  let upgrade: { exitCode: number | undefined; output: string };
  const apps: RunningApp[] = [];

  const alembic = (...args: string[]) =>
    execa(path.join(dir, ".venv/bin/alembic"), args, { cwd: dir, env: projectEnv({ DATABASE_URL: postgres.url }), extendEnv: false, reject: false, all: true });

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-postgres-"));
    dir = path.join(root, "persisted");
    const result = await runCli([dir, "--postgres", "--yes", "--install", "--no-git"]);
    if (result.exitCode !== 0) throw new Error(`CLI failed:\n${result.stderr}\n${result.stdout}`);
    postgres = await startPostgres(bin!);
    const migrated = await alembic("upgrade", "head");
    upgrade = { exitCode: migrated.exitCode, output: migrated.all ?? "" };
    // Slow tokens, so that a stream can be cut, or outlive the database, halfway.
    const env = { API_KEYS: `${KEY_A},${KEY_B}`, RATE_LIMIT: "off", DATABASE_URL: postgres.url, MOCK_TOKEN_DELAY: "0.05" };
    apps.push(await serveProject(dir, env), await serveProject(dir, env));
  });

  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => {});
    await postgres?.remove();
    if (root) await fs.remove(root);
  });

  const post = (app: RunningApp, route: string, body: object, key = KEY_A, signal?: AbortSignal) =>
    fetch(`${app.origin}${route}`, { method: "POST", headers: { "content-type": "application/json", ...bearer(key) }, body: JSON.stringify(body), signal });
  const chat = (content: string, conversation?: string) => ({
    messages: [{ role: "user", content }],
    ...(conversation ? { conversation_id: conversation } : {}),
  });
  const messagesOf = async (app: RunningApp, conversation: string, key = KEY_A) => {
    const response = await fetch(`${app.origin}/v1/conversations/${conversation}`, { headers: bearer(key) });
    return { status: response.status, messages: response.ok ? ((await response.json()).messages as Stored[]) : [] };
  };
  const doneOf = (events: SseEvent[]) => {
    const done = events.find((e) => e.event === "done");
    expect(done, JSON.stringify(events)).toBeDefined();
    return JSON.parse(done!.data!) as { conversation_id?: string; message_id?: number; stored?: boolean; usage: { prompt_tokens: number } };
  };

  it("migrates an empty database with alembic upgrade head; alembic check finds models and migrations in step", async () => {
    expect(upgrade.exitCode, upgrade.output).toBe(0);
    expect(upgrade.output).toContain("Running upgrade  -> 0001");
    const check = await alembic("check");
    expect(check.exitCode, check.all).toBe(0);
    expect(check.all).toContain("No new upgrade operations detected");
  });

  it("passes ruff, and its own pytest against a PostgreSQL it starts itself", async () => {
    const check = await execa(path.join(dir, ".venv/bin/ruff"), ["check", "."], { cwd: dir, reject: false });
    expect(check.stdout + check.stderr).toContain("All checks passed");
    const format = await execa(path.join(dir, ".venv/bin/ruff"), ["format", "--check", "."], { cwd: dir, reject: false });
    expect(format.exitCode, format.stdout).toBe(0);
    // No DATABASE_URL: the tests start their own cluster (they empty the tables they use).
    const tests = await execa(path.join(dir, ".venv/bin/pytest"), ["-q", "-p", "no:cacheprovider", "-rs"], {
      cwd: dir,
      env: projectEnv({ CI: "true" }),
      extendEnv: false,
      reject: false,
    });
    expect(tests.exitCode, tests.stdout.slice(-3000)).toBe(0);
    expect(tests.stdout).toMatch(/\d+ passed/);
    expect(tests.stdout).not.toMatch(/SKIPPED.*PostgreSQL/);
  });

  it("continues on one process a conversation the other started: both read one database", async () => {
    const [first, second] = apps as [RunningApp, RunningApp];
    const conversation = randomUUID();
    const started = doneOf(await readSse(await post(first, "/v1/chat/stream", chat("one two three", conversation)), () => {}));
    expect(started).toMatchObject({ conversation_id: conversation, stored: true });
    // The mock counts the words it was sent: the history stored through the first process came along.
    const continued = doneOf(await readSse(await post(second, "/v1/chat/stream", chat("four", conversation)), () => {}));
    expect(continued.usage.prompt_tokens).toBe(3 + 3 + 1);
    expect(continued.message_id).toBeGreaterThan(started.message_id!);
    const { messages } = await messagesOf(first, conversation);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "one two three"],
      ["assistant", "one two three"],
      ["user", "four"],
      ["assistant", "four"],
    ]);
  });

  it("keeps the partial answer of a stream its client cut, marked client_left", async () => {
    const conversation = randomUUID();
    const controller = new AbortController();
    const response = await post(apps[0]!, "/v1/chat/stream", chat(words(60), conversation), KEY_A, controller.signal);
    let deltas = 0;
    await readSse(response, (event) => (event.event === "delta" ? ++deltas < 3 : true)).catch(() => []);
    controller.abort();
    expect(deltas).toBe(3);
    const { messages } = await eventually(() => messagesOf(apps[1]!, conversation), (found) => found.messages.length === 2, 10_000, "the partial answer");
    const answer = messages[1]!;
    expect(answer).toMatchObject({ role: "assistant", status: "partial", interruption: "client_left" });
    expect(answer.content.startsWith("w0 w1 w2")).toBe(true);
    expect(answer.content.length).toBeLessThan(words(60).length);
  });

  it("answers 404 to a key that asks for another key's conversation", async () => {
    const conversation = randomUUID();
    await readSse(await post(apps[0]!, "/v1/chat/stream", chat("private", conversation), KEY_A), () => {});
    expect((await messagesOf(apps[1]!, conversation, KEY_B)).status).toBe(404);
    expect((await post(apps[1]!, "/v1/chat/stream", chat("let me in", conversation), KEY_B)).status).toBe(404);
    const listed = await (await fetch(`${apps[1]!.origin}/v1/conversations`, { headers: bearer(KEY_B) })).json();
    expect(listed.data.map((c: { id: string }) => c.id)).not.toContain(conversation);
    expect((await messagesOf(apps[1]!, conversation, KEY_A)).messages).toHaveLength(2);
  });

  it("with Postgres stopped mid-run: 503 before any token, chats without a conversation go on, nothing written half", async () => {
    const [app] = apps as [RunningApp];
    const interrupted = randomUUID();
    const response = await post(app, "/v1/chat/stream", chat(words(60), interrupted));
    let stopped: Promise<void> | undefined;
    const events = await readSse(response, (event) => {
      if (event.event === "delta" && !stopped) stopped = postgres.stop();
    });
    await stopped;
    // The answer went out whole, and says it was not kept.
    expect(doneOf(events).stored).toBe(false);
    const notStored = await scrape(app.origin, KEY_A);
    expect(notStored.get("chat_answers_not_stored_total")).toBeGreaterThanOrEqual(1);

    const refused = randomUUID();
    const down = await post(app, "/v1/chat/stream", chat("remember this", refused));
    expect(down.status).toBe(503);
    expect(down.headers.get("content-type")).toContain("application/json");
    expect((await down.json()).error.code).toBe("database_unavailable");
    const plain = doneOf(await readSse(await post(app, "/v1/chat/stream", chat("no history needed")), () => {}));
    expect(plain.conversation_id).toBeUndefined();
    expect((await fetch(`${app.origin}/healthz`)).status).toBe(200);
    const ready = await fetch(`${app.origin}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).checks.database).toBe(false);

    await postgres.start();
    await eventually(async () => (await fetch(`${app.origin}/readyz`)).status, (status) => status === 200, 10_000, "readiness after the restart");
    // The refused chat wrote nothing; the interrupted one holds its question, and no half answer.
    expect((await messagesOf(app, refused)).status).toBe(404);
    const { messages } = await messagesOf(app, interrupted);
    expect(messages.map((m) => [m.role, m.content])).toEqual([["user", words(60)]]);
    const again = doneOf(await readSse(await post(app, "/v1/chat/stream", chat("back", interrupted)), () => {}));
    expect(again.stored).toBe(true);
  });
});
