/**
 * The fake flyctl refuses what the real one refuses (each fact is cited in the fake beside it),
 * and the deploy meets those refusals the way a user on the real Fly would.
 */
import { execa } from "execa";
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KEY, runCli, useFakeApp, workspace, type Workspace } from "./helpers.js";

let ws: Workspace;
afterEach(() => ws?.remove());

/** Runs the fake as `flyctl` in the project, without a terminal. */
function flyctl(args: string[], env: Record<string, string> = {}, input?: string) {
  return execa(path.join(ws.binDir, "flyctl"), args, { cwd: ws.dir, env: ws.env({}, env), extendEnv: false, reject: false, ...(input === undefined ? { stdin: "ignore" as const } : { input }) });
}

describe("the fake flyctl is as strict as flyctl", () => {
  it("accepts only -t/--access-token, --verbose and --debug everywhere; other flags only where declared", async () => {
    ws = await workspace();
    const whoamiYes = await flyctl(["auth", "whoami", "--yes"]);
    expect(whoamiYes.exitCode).toBe(1);
    expect(whoamiYes.stderr).toBe("Error: unknown flag: --yes");
    expect((await flyctl(["auth", "whoami", "-y"])).stderr).toContain("unknown flag: --yes");
    expect((await flyctl(["apps", "list", "--app", "x"])).stderr).toContain("unknown flag: --app");
    expect((await flyctl(["secrets", "list", "--stage", "--app", "x"])).stderr).toContain("unknown flag: --stage");
    for (const global of [["--verbose"], ["--debug"], ["-t", "fo1_x"], ["--access-token", "fo1_x"]]) {
      expect((await flyctl(["auth", "whoami", "--json", ...global])).exitCode, global.join(" ")).toBe(0);
    }
  });

  it("mpg and redis: each question flyctl would ask needs its flag, a set DATABASE_URL is refused, an empty list is a sentence", async () => {
    ws = await workspace();
    await ws.setApps({ "my-api": { org: "personal", secrets: ["DATABASE_URL"] } });
    expect((await flyctl(["mpg", "list", "--json"])).stderr).toBe("Error: org slug must be specified when not running interactively");
    expect((await flyctl(["mpg", "list", "--org", "personal", "--json"])).stdout).toBe("No managed postgres clusters found in organization personal");
    expect((await flyctl(["mpg", "create", "--name", "my-api-db", "--org", "personal"])).stderr).toBe("Error: prompt: non interactive");
    expect((await flyctl(["mpg", "create", "--name", "my-api-db", "--org", "personal", "--region", "iad", "--json"])).stderr).toBe("Error: unknown flag: --json");
    const created = await flyctl(["mpg", "create", "--name", "my-api-db", "--org", "personal", "--region", "iad"]);
    const id = /^\s*ID: (\S+)$/m.exec(created.stdout)?.[1];
    expect(id).toBeTruthy();
    const [listed] = JSON.parse((await flyctl(["mpg", "list", "--org", "personal", "--json"])).stdout);
    expect(listed).toMatchObject({ id, name: "my-api-db", region: "iad", status: "ready", plan: "basic" });
    expect((await flyctl(["mpg", "attach", id!, "--app", "my-api"])).stderr).toBe("Error: app my-api already has DATABASE_URL set. Use 'fly secrets unset DATABASE_URL' to remove it first");

    const base = ["redis", "create", "--name", "my-api-redis", "--org", "personal", "--region", "iad", "--no-replicas"];
    expect((await flyctl([...base, "--enable-prodpack=false"])).stderr).toBe("Error: prompt: non interactive");
    expect((await flyctl([...base, "--disable-eviction"])).stderr).toBe("Error: prompt: non interactive");
    expect((await flyctl(["redis", "list", "--json"])).stderr).toBe("Error: unknown flag: --json");
    expect((await flyctl([...base, "--disable-eviction", "--enable-prodpack=false"])).exitCode).toBe(0);
    expect((await flyctl(["redis", "status", "my-api-redis"])).stdout).toMatch(/^\s*Private URL\s+│ redis:\/\/default:\w+@fly-my-api-redis\.upstash\.io:6379$/m);
    expect((await flyctl(["redis", "status", "nope"])).exitCode).toBe(1);
  });

  it("lists secrets with lowercase keys", async () => {
    ws = await workspace();
    await ws.setApps({ "my-api": { org: "personal", secrets: ["GROQ_API_KEY"] } });
    const listed = await flyctl(["secrets", "list", "--app", "my-api", "--json"]);
    expect(JSON.parse(listed.stdout)).toEqual([{ name: "GROQ_API_KEY", digest: "digest", status: "Deployed" }]);
  });

  it("refuses `scale count` without a terminal unless --yes is given", async () => {
    ws = await workspace();
    await ws.setApps({ "my-api": { org: "personal" } });
    const refused = await flyctl(["scale", "count", "1", "--region", "fra", "--app", "my-api"]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("--yes flag must be specified when not running interactively");
    expect((await flyctl(["scale", "count", "1", "--region", "fra", "--app", "my-api", "--yes"])).exitCode).toBe(0);
  });

  it("uses FLY_ACCESS_TOKEN over FLY_API_TOKEN, and finds a bad token only at an API call", async () => {
    ws = await workspace();
    const env = { FAKE_FLYCTL_AUTH: "logged-out", FAKE_FLYCTL_INVALID_TOKENS: "fo1_stale" };
    expect((await flyctl(["version"], { ...env, FLY_API_TOKEN: "fo1_stale" })).exitCode).toBe(0);
    const stale = await flyctl(["auth", "whoami", "--json"], { ...env, FLY_ACCESS_TOKEN: "fo1_stale", FLY_API_TOKEN: "fo1_good" });
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toContain("failed retrieving current user");
    expect((await flyctl(["auth", "whoami", "--json"], { ...env, FLY_ACCESS_TOKEN: "fo1_good", FLY_API_TOKEN: "fo1_stale" })).exitCode).toBe(0);
  });

  it("refuses a taken name in both of the API's words", async () => {
    ws = await workspace();
    const validation = await flyctl(["apps", "create", "taken-app", "--org", "personal"], { FAKE_FLYCTL_TAKEN: "taken-app" });
    expect(validation.stderr).toBe("Error: Validation failed: Name has already been taken");
    const uniqueness = await flyctl(["apps", "create", "taken-app", "--org", "personal"], { FAKE_FLYCTL_TAKEN: "taken-app", FAKE_FLYCTL_TAKEN_ANSWER: "uniqueness" });
    expect(uniqueness.stderr).toBe("Error: uniqueness constraint violated");
  });

  it("makes 2 Machines on a first deploy, 1 with --ha=false", async () => {
    for (const [flag, count] of [[[], 2], [["--ha=false"], 1], [["--ha=true"], 2]] as const) {
      ws = await workspace();
      await ws.setApps({ "my-api": { org: "personal", deployed: false } });
      await fs.writeFile(ws.state, (await fs.readFile(ws.state, "utf8")).replace('"machines":["iad"]', '"machines":[]'));
      const deployed = await flyctl(["deploy", "--remote-only", ...flag, "--app", "my-api", "--config", "fly.toml", "--yes"]);
      expect(deployed.exitCode, deployed.stderr).toBe(0);
      const status = JSON.parse((await flyctl(["status", "--app", "my-api", "--json"])).stdout);
      expect(status.Machines, flag.join(" ")).toHaveLength(count);
      await ws.remove();
    }
  });

  it("parses `secrets import` stdin with flyctl's parser, exit 0 even when a value swallows the next lines", async () => {
    ws = await workspace();
    await ws.setApps({ "my-api": { org: "personal" } });
    const swallowed = await flyctl(["secrets", "import", "--app", "my-api"], {}, 'C=z\nA="""x\nB=y\n');
    expect(swallowed.exitCode).toBe(0);
    const names = JSON.parse((await flyctl(["secrets", "list", "--app", "my-api", "--json"])).stdout).map((s: { name: string }) => s.name);
    expect(names).toEqual(["C"]);
  });
});

describe("the deploy against the strict fake", () => {
  const app = useFakeApp();

  it("catches an invalid token in preflight, naming the variable flyctl uses", async () => {
    ws = await workspace();
    const env = ws.env({ auth: "logged-out", invalidTokens: ["fo1_stale"] }, { ...app.env, GROQ_API_KEY: KEY, FLY_ACCESS_TOKEN: "fo1_stale", FLY_API_TOKEN: "fo1_good" });
    const result = await runCli(ws, ["deploy", "my-api"], env);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("preflight: Fly.io refused the token in FLY_ACCESS_TOKEN (flyctl uses it over FLY_API_TOKEN)");
    expect(result.stderr).toContain("flyctl │ Error: failed retrieving current user");
    expect((await ws.calls()).map((c) => c.argv.slice(0, 2).join(" "))).toEqual(["version", "auth whoami"]);
  });

  it("takes `uniqueness constraint violated` as a taken name", async () => {
    ws = await workspace();
    const env = ws.env({ taken: ["my-api"], takenAnswer: "uniqueness" }, { ...app.env, GROQ_API_KEY: KEY });
    const result = await runCli(ws, ["deploy", "my-api"], env);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/app: the app name my-api is taken by another Fly\.io user/);
  });
});
