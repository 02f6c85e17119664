import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SMOKE_ORIGIN_ENV } from "../../src/deploy/smoke.js";
import { KEY, runCli, snapshot, workspace, type Workspace } from "./helpers.js";

/** A deployed app with the auth feature: /healthz is open, the stream wants `Bearer <one of keys>`. */
async function startKeyedApp() {
  const seen: (string | undefined)[] = [];
  let keys: (string | RegExp)[] = [];
  const server = http.createServer(async (req, res) => {
    for await (const _ of req);
    if (req.url === "/healthz") return void res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    seen.push(req.headers.authorization);
    const given = req.headers.authorization?.replace(/^Bearer /, "") ?? "";
    if (!keys.some((k) => (typeof k === "string" ? given === k : k.test(given)))) {
      return void res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"code":"unauthorized","message":"no"}}');
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end(`event: delta\ndata: {"text":"hi"}\n\nevent: done\ndata: {}\n\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: { [SMOKE_ORIGIN_ENV]: origin },
    seen,
    accept: (next: (string | RegExp)[]) => void (keys = next),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Any key the deploy generates: the fake stands in for an app that got the staged secret. */
const GENERATED = /^sk-api-[A-Za-z0-9_-]{43}$/;

let app: Awaited<ReturnType<typeof startKeyedApp>>;
let ws: Workspace;
beforeAll(async () => {
  app = await startKeyedApp();
});
afterAll(() => app.close());
afterEach(() => ws?.remove());

async function keyedWorkspace() {
  // As the generator records it: the project has the auth feature.
  ws = await workspace({ features: { auth: true } });
  return ws;
}

describe("deploy with the auth feature: API_KEYS", () => {
  it("generates a strong key when none is given, stages it on stdin, smoke-tests with it and reports it once", async () => {
    await keyedWorkspace();
    const before = await snapshot(ws.dir);
    app.accept([GENERATED]);
    const result = await runCli(ws, ["deploy", "my-api", "--json"], ws.env({}, { ...app.env, GROQ_API_KEY: KEY }));
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    const key: string = doc.generatedSecrets.API_KEYS;
    expect(key).toMatch(/^sk-api-[A-Za-z0-9_-]{43}$/);
    expect(doc.secrets).toContainEqual({ name: "API_KEYS", source: "staged from generated" });
    expect((await ws.calls()).find((c) => c.argv[0] === "secrets")!.stdin).toBe(`GROQ_API_KEY="${KEY}"\nAPI_KEYS="${key}"\n`);
    expect(app.seen.at(-1)).toBe(`Bearer ${key}`);
    expect(doc.smoke).toMatchObject({ stream: { deltas: 1 }, auth: "key accepted" });
    // Not on disk, not on a command line, not in the project: only in this one answer.
    expect(await snapshot(ws.dir)).toEqual(before);
    expect(JSON.stringify((await ws.calls()).map((c) => c.argv))).not.toContain(key);
    expect(result.stderr).not.toContain(key);
  });

  it("shows a generated key once in the summary for a person", async () => {
    await keyedWorkspace();
    app.accept([GENERATED]);
    const result = await runCli(ws, ["deploy", "my-api"], ws.env({}, { ...app.env, GROQ_API_KEY: KEY }));
    expect(result.exitCode, result.stderr).toBe(0);
    const shown = (result.stdout + result.stderr).match(/sk-api-[A-Za-z0-9_-]{43}/g) ?? [];
    expect(shown).toHaveLength(1);
    expect(result.stdout).toMatch(/API_KEYS: +sk-api-/);
    expect(result.stdout).toContain("shown this once");
  });

  it("keeps a key the app already has: no new key, and the smoke test checks the 401 instead", async () => {
    await keyedWorkspace();
    await ws.setApps({ "my-api": { org: "personal", secrets: ["GROQ_API_KEY", "API_KEYS"] } });
    app.accept(["sk-api-the-one-only-the-app-knows"]);
    const result = await runCli(ws, ["deploy", "my-api", "--json"], ws.env({}, app.env));
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.secrets).toEqual([
      { name: "GROQ_API_KEY", source: "already set" },
      { name: "API_KEYS", source: "already set" },
    ]);
    expect(doc.generatedSecrets).toBeUndefined();
    expect(doc.smoke).toMatchObject({ stream: null, auth: "401 without a key" });
    expect((await ws.calls()).some((c) => c.argv[0] === "secrets" && c.argv[1] === "import")).toBe(false);
  });

  it("uses keys from the environment (a rotation: new,old) and smoke-tests with the first", async () => {
    await keyedWorkspace();
    const keys = "sk-api-new-0123456789abcdef,sk-api-old-0123456789abcdef";
    app.accept(keys.split(","));
    const result = await runCli(ws, ["deploy", "my-api", "--json"], ws.env({}, { ...app.env, GROQ_API_KEY: KEY, API_KEYS: keys }));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).secrets).toContainEqual({ name: "API_KEYS", source: "staged from environment" });
    expect(app.seen.at(-1)).toBe("Bearer sk-api-new-0123456789abcdef");
    expect((await ws.calls()).find((c) => c.argv[0] === "secrets")!.stdin).toBe(`GROQ_API_KEY="${KEY}"\nAPI_KEYS="${keys}"\n`);
  });
});
