import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DeployError, deployProject, type DeployRequest } from "../../src/deploy/index.js";
import { plainUi, type DeployUi } from "../../src/deploy/ui.js";
import { KEY, snapshot, useFakeApp, workspace, type Workspace } from "./helpers.js";

/** A person at a terminal, answering from a script; records what was asked. */
function scriptedUi(answers: { secret?: string; appNames?: string[]; confirm?: boolean }) {
  const asked: string[] = [];
  const output: string[] = [];
  const names = [...(answers.appNames ?? [])];
  const ui: DeployUi = {
    ...plainUi((line) => output.push(line)),
    interactive: true,
    async askSecret(name) {
      asked.push(`secret ${name}`);
      return answers.secret ?? "";
    },
    async askAppName(message, suggestion, validate) {
      asked.push(`app name (${message})`);
      const name = names.shift() ?? suggestion;
      expect(validate(name)).toBeUndefined();
      return name;
    },
    async confirm(message) {
      asked.push(`confirm ${message}`);
      return answers.confirm ?? false;
    },
  };
  return { ui, asked, output };
}

const app = useFakeApp();
let ws: Workspace;
afterEach(() => ws?.remove());

function request(ui: DeployUi, env: Record<string, string>, extra: Partial<DeployRequest> = {}): DeployRequest {
  return { dir: ws.dir, org: "personal", regions: [], yes: false, env: { ...env, ...app.env }, ui, rerun: "npx create-fly-fastapi deploy my-api", ...extra };
}

describe("deploy in a terminal", () => {
  it("asks for the key with a masked prompt and sends it on stdin only", async () => {
    ws = await workspace();
    const { ui, asked } = scriptedUi({ secret: KEY });
    const summary = await deployProject(request(ui, ws.env()));
    expect(asked).toEqual(["secret GROQ_API_KEY"]);
    expect(summary.secrets).toEqual([{ name: "GROQ_API_KEY", source: "staged from prompt" }]);
    const calls = await ws.calls();
    expect(calls.find((c) => c.argv[0] === "secrets")?.stdin).toBe(`GROQ_API_KEY="${KEY}"\n`);
    expect(JSON.stringify(calls.map((c) => c.argv))).not.toContain(KEY);
    // Nothing on disk holds it: not the project, not flyctl's state (the fake's call log records stdin on purpose).
    expect(JSON.stringify(await snapshot(ws.dir))).not.toContain(KEY);
    expect(await fs.readFile(ws.state, "utf8")).not.toContain(KEY);
  });

  it("asks for another name when the name is taken and writes it into fly.toml, nothing else", async () => {
    ws = await workspace({ provider: "mock" });
    const before = await snapshot(ws.dir);
    const { ui, asked, output } = scriptedUi({ appNames: ["also-taken", "my-api-eu"] });
    const summary = await deployProject(request(ui, ws.env({ taken: ["my-api", "also-taken"] })));
    expect(asked).toEqual(["app name (my-api is taken on Fly.io. Another app name?)", "app name (also-taken is taken on Fly.io. Another app name?)"]);
    expect(summary).toMatchObject({ app: "my-api-eu", created: true, url: "https://my-api-eu.fly.dev" });
    expect(output).toContain('fly.toml: app = "my-api-eu"');
    const after = await snapshot(ws.dir);
    expect(after["fly.toml"]).toBe(before["fly.toml"]!.replace('app = "my-api"', 'app = "my-api-eu"'));
    expect({ ...after, "fly.toml": "" }).toEqual({ ...before, "fly.toml": "" });
    const creates = (await ws.calls()).filter((c) => c.argv[1] === "create").map((c) => c.argv[2]);
    expect(creates).toEqual(["my-api", "also-taken", "my-api-eu"]);
  });

  it("lets the optional key of a custom endpoint be left empty (and CI goes on without it)", async () => {
    ws = await workspace({ provider: "custom" });
    const { ui, asked } = scriptedUi({ secret: "" });
    expect((await deployProject(request(ui, ws.env()))).secrets).toEqual([]);
    expect(asked).toEqual(["secret INFERENCE_API_KEY"]);
    expect((await deployProject(request({ ...ui, interactive: false }, ws.env()))).secrets).toEqual([]);
    expect((await ws.calls()).some((c) => c.argv[0] === "secrets" && c.argv[1] === "import")).toBe(false);
  });

  it("offers `uv lock` when uv.lock is missing; declining stops before anything changes", async () => {
    ws = await workspace({ provider: "mock", lock: false });
    await fs.writeFile(path.join(ws.binDir, "uv"), `#!/bin/sh\n[ "$1" = lock ] && echo 'version = 1' > uv.lock\nexit 0\n`, { mode: 0o755 });
    const before = await snapshot(ws.dir);

    const declined = scriptedUi({ confirm: false });
    const error = await deployProject(request(declined.ui, ws.env())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as DeployError).step).toBe("preflight");
    expect((error as DeployError).hint).toContain("uv lock");
    expect(declined.asked).toEqual(["confirm uv.lock is missing; the Dockerfile installs from it. Run `uv lock` now?"]);
    expect(await snapshot(ws.dir)).toEqual(before);
    expect((await ws.calls()).map((c) => c.argv[0])).toEqual(["version", "auth", "apps"]);

    const accepted = scriptedUi({ confirm: true });
    await deployProject(request(accepted.ui, ws.env()));
    expect(await snapshot(ws.dir)).toEqual({ ...before, "uv.lock": "version = 1\n" });
  });

  it("with --yes runs `uv lock` without asking", async () => {
    ws = await workspace({ provider: "mock", lock: false });
    await fs.writeFile(path.join(ws.binDir, "uv"), `#!/bin/sh\n[ "$1" = lock ] && echo 'version = 1' > uv.lock\nexit 0\n`, { mode: 0o755 });
    const { ui, asked } = scriptedUi({});
    await deployProject(request({ ...ui, interactive: false }, ws.env(), { yes: true }));
    expect(asked).toEqual([]);
    expect(await fs.readFile(path.join(ws.dir, "uv.lock"), "utf8")).toBe("version = 1\n");
  });
});
