/**
 * Issue 14: a project deployed once, then grown with `add`. `add` changes files only and says what
 * the next deploy does; that deploy announces what is new for the app, provisions it, and keeps
 * what the first one made. Against the fake flyctl (test/fixtures/fake-flyctl/).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { summaryLines } from "../../src/deploy/index.js";
import { KEY, runCli, snapshot, storedSecrets, useFakeApp, workspace, type Workspace } from "./helpers.js";

const app = useFakeApp();
let ws: Workspace;
afterEach(() => ws?.remove());

/** A `uv` that locks as uv does: uv.lock written in the folder it runs in. */
const withUv = () => fs.writeFile(path.join(ws.binDir, "uv"), `#!/bin/sh\n[ "$1" = lock ] && echo 'version = 1' > uv.lock\nexit 0\n`, { mode: 0o755 });

describe("deploy after add postgres", () => {
  it("add says the next deploy creates and attaches the cluster; that deploy announces it, runs mpg create and attach (the first did not), and keeps the app and its secrets", async () => {
    ws = await workspace();
    await withUv();
    const created = await runCli(ws, ["grown", "--provider", "groq", "--region", "fra", "--no-ratelimit", "--no-auth", "--no-install", "--no-git", "--yes"], ws.env());
    expect(created.exitCode, created.stderr).toBe(0);
    const dir = path.join(ws.root, "grown");

    const first = await runCli(ws, ["deploy", "grown", "--yes", "--json"], ws.env({}, { ...app.env, GROQ_API_KEY: KEY }));
    expect(first.exitCode, first.stderr).toBe(0);
    const firstDoc = JSON.parse(first.stdout);
    expect(firstDoc).toMatchObject({ created: true, provisioning: [], added: { services: [], secrets: ["GROQ_API_KEY"] } });
    const firstCalls = (await ws.calls()).map((c) => c.argv.join(" "));
    expect(firstCalls.filter((line) => line.startsWith("mpg "))).toEqual([]);

    // The summary of add says what the next deploy does, in words a person acts on.
    const dry = await runCli(ws, ["add", "postgres", "grown", "--dry-run"], ws.env());
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout + dry.stderr).toContain(
      "the next deploy (create-fly-fastapi deploy grown) creates the Managed Postgres cluster grown-db (or reuses it when it exists) and attaches it with fly mpg attach, which sets DATABASE_URL",
    );
    const added = await runCli(ws, ["add", "postgres", "grown", "--json"], ws.env());
    expect(added.exitCode, added.stderr).toBe(0);
    const addDoc = JSON.parse(added.stdout);
    expect(addDoc.deploy.newServices).toEqual([{ kind: "managed-postgres", secret: "DATABASE_URL", name: "grown-db" }]);
    expect(addDoc.steps).toEqual([{ step: "lock", status: "done", note: "uv lock" }]);
    // The rate limits' Redis is a deploy option's: add says which deploy makes it.
    const ratelimit = await runCli(ws, ["add", "ratelimit", "grown", "--dry-run"], ws.env());
    expect(ratelimit.stdout + ratelimit.stderr).toContain(
      "a deploy with --redis (create-fly-fastapi deploy grown --redis) creates the Upstash Redis grown-redis (or reuses it when it exists) and sets REDIS_URL to its URL",
    );
    // add ran no flyctl: the deploy does the provisioning.
    expect((await ws.calls()).length).toBe(firstCalls.length);
    expect(await fs.readFile(path.join(dir, "fly.toml"), "utf8")).toContain('release_command = "alembic upgrade head"');

    // No GROQ_API_KEY this time: the app has it, and keeps it.
    const second = await runCli(ws, ["deploy", "grown", "--yes", "--json"], ws.env({}, app.env));
    expect(second.exitCode, second.stderr).toBe(0);
    const doc = JSON.parse(second.stdout);
    const state = JSON.parse(await fs.readFile(ws.state, "utf8")) as { mpg: { id: string; name: string; attached: string[] }[]; apps: Record<string, { secrets: Record<string, string> }> };
    const cluster = state.mpg[0]!;
    expect(state.mpg).toEqual([expect.objectContaining({ name: "grown-db", attached: ["grown"] })]);
    expect(doc).toMatchObject({
      created: false,
      provisioning: [{ kind: "managed-postgres", name: "grown-db", id: cluster.id, secret: "DATABASE_URL", action: "created" }],
      added: { services: [{ kind: "managed-postgres", name: "grown-db", secret: "DATABASE_URL" }], secrets: [] },
    });
    expect(doc.secrets).toContainEqual({ name: "GROQ_API_KEY", source: "already set" });
    // A person's summary names it too.
    expect(summaryLines(doc)).toContain("New:       Managed Postgres grown-db (not there at the last deploy)");
    expect(second.stderr).toContain(
      "New for grown since its last deploy: Managed Postgres: creates the Managed Postgres cluster grown-db (or reuses it when it exists) and attaches it with fly mpg attach, which sets DATABASE_URL",
    );
    const secondCalls = (await ws.calls()).map((c) => c.argv.join(" ")).slice(firstCalls.length);
    expect(secondCalls).toContain("mpg create --name grown-db --org personal --region fra --plan basic --volume-size 10");
    expect(secondCalls).toContain(`mpg attach ${cluster.id} --app grown`);
    expect(secondCalls.filter((line) => line.startsWith("apps create"))).toEqual([]);
    expect(Object.keys(state.apps.grown!.secrets).sort()).toEqual(["DATABASE_URL", "GROQ_API_KEY"]);
    // Nothing new is staged: GROQ_API_KEY stays as the first deploy set it, DATABASE_URL is attach's.
    const imports = (await ws.calls()).slice(firstCalls.length).filter((c) => c.argv[0] === "secrets" && c.argv[1] === "import");
    for (const call of imports) expect(storedSecrets(call)).toEqual({});
    expect(JSON.stringify(await snapshot(dir))).not.toContain(KEY);

    // A third deploy has nothing new to announce, and provisions nothing again.
    const third = await runCli(ws, ["deploy", "grown", "--yes"], ws.env({}, app.env));
    expect(third.exitCode, third.stderr).toBe(0);
    expect(third.stdout + third.stderr).not.toContain("New for grown");
    expect((await ws.calls()).map((c) => c.argv.join(" ")).filter((line) => /^mpg (create|attach)/.test(line))).toHaveLength(2);
  });
});

describe("deploy --redis on a project without rate limits", () => {
  it("is refused in one line whose hint is the add that turns them on; nothing on Fly changes", async () => {
    ws = await workspace();
    const result = await runCli(ws, ["deploy", "my-api", "--redis"], ws.env({}, { ...app.env, GROQ_API_KEY: KEY }));
    expect(result.exitCode).toBe(1);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("error:"));
    expect(errors).toEqual(["error: deploy stopped at preflight: --redis: no feature of this project uses it"]);
    expect(result.stderr).toContain("drop --redis, or turn the rate limits (which use Redis) on first: create-fly-fastapi add ratelimit");
    expect((await ws.calls()).map((c) => c.argv.join(" ")).filter((line) => !/^(version|auth whoami|apps list)/.test(line))).toEqual([]);
  });
});
