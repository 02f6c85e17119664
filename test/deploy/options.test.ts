import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse } from "smol-toml";
import { afterEach, describe, expect, it } from "vitest";
import { parseArgs } from "../../src/args.js";
import { extraRegions, resolveDeployOptions } from "../../src/deploy/options.js";
import { SMOKE_ORIGIN_ENV } from "../../src/deploy/smoke.js";
import { readProject, writeAppName } from "../../src/deploy/project.js";
import { helpText, optionsReference } from "../../src/help.js";
import { DEPLOY_OPTIONS } from "../../src/options.js";
import { makeProject } from "./helpers.js";

describe("deploy options: declared once, parsed, validated, documented", () => {
  it("parses --deploy, --org and --regions apart from the project options", () => {
    const args = parseArgs(["my-api", "--provider", "groq", "--deploy", "--org", "acme", "--regions=fra,sin"]);
    expect(args).toMatchObject({ command: "create", given: { directory: "my-api", provider: "groq" }, deploy: { deploy: true, org: "acme", regions: "fra,sin" } });
    expect(parseArgs(["deploy", "./deploy", "--no-deploy"])).toMatchObject({ command: "deploy", given: { directory: "./deploy" }, deploy: { deploy: false } });
    expect(() => parseArgs(["--regoins", "fra"])).toThrow("did you mean --regions?");
    expect(() => parseArgs(["--org", "a", "--org", "b"])).toThrow("--org is given twice");
  });

  it("fills defaults, asks only what has a prompt, and rejects bad values", async () => {
    expect(await resolveDeployOptions({})).toEqual({ deploy: false, org: "personal", regions: "", ha: false });
    const asked: string[] = [];
    const answers = await resolveDeployOptions({ org: "acme" }, async (decl) => (asked.push(decl.flag), decl.type === "boolean" ? true : "fra,sin"));
    // The extra regions are asked only when deploying now.
    expect(asked).toEqual(["deploy", "regions"]);
    expect(answers).toEqual({ deploy: true, org: "acme", regions: "fra,sin", ha: false });
    const notDeploying: string[] = [];
    expect(await resolveDeployOptions({}, async (decl) => (notDeploying.push(decl.flag), false))).toEqual({ deploy: false, org: "personal", regions: "", ha: false });
    expect(notDeploying).toEqual(["deploy"]);
    await expect(resolveDeployOptions({ regions: "fra,mars" })).rejects.toThrow('unknown region "mars" in --regions');
    await expect(resolveDeployOptions({ org: "Acme Inc" })).rejects.toThrow('invalid --org "Acme Inc"');
  });

  it("drops the primary region and repeats from the extra regions", () => {
    expect(extraRegions(" fra, sin ,fra,iad", "iad")).toEqual(["fra", "sin"]);
    expect(extraRegions("", "iad")).toEqual([]);
  });

  it("shows every deploy flag in --help and docs/options.md", () => {
    for (const decl of DEPLOY_OPTIONS) {
      expect(helpText()).toContain(`--${decl.flag}`);
      expect(optionsReference()).toContain(`--${decl.flag}`);
    }
    expect(helpText()).toContain("create-fly-fastapi deploy [directory]");
  });

  it("docs/deploy.md covers every flag, every step's errors, and the smoke-origin variable", async () => {
    const doc = await fs.readFile(path.join(import.meta.dirname, "../../docs/deploy.md"), "utf8");
    for (const flag of ["--name", "--yes", "--json", ...DEPLOY_OPTIONS.map((d) => `--${d.flag}`)]) expect(doc).toContain(flag);
    for (const step of ["preflight", "app", "secrets", "deploy", "regions", "smoke"]) expect(doc).toContain(`| \`${step}: `);
    for (const topic of ["## First deploy", "## Deploy from CI with a token", "FLY_API_TOKEN", "## Redeploy", "## Regions", "## Roll back", "## Troubleshooting"]) {
      expect(doc).toContain(topic);
    }
    expect(doc).toContain(SMOKE_ORIGIN_ENV);
  });
});

describe("reading a project to deploy", () => {
  let root: string;
  afterEach(() => fs.rm(root, { recursive: true, force: true }));
  const project = async (shape: Parameters<typeof makeProject>[1]) => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-project-"));
    await makeProject(root, shape);
    return root;
  };

  it("reads app, region, provider and the secret it needs from fly.toml", async () => {
    const dir = await project({ name: "chat-eu", provider: "openai", region: "fra" });
    expect(await readProject(dir)).toMatchObject({
      appName: "chat-eu",
      primaryRegion: "fra",
      provider: { id: "openai" },
      secretNames: ["OPENAI_API_KEY"],
      needsUvLock: true,
      hasUvLock: true,
    });
  });

  it("needs no secret for mock or ollama, and no uv.lock for a pip project", async () => {
    expect(await readProject(await project({ provider: "mock", uv: false }))).toMatchObject({ secretNames: [], needsUvLock: false });
    await fs.rm(root, { recursive: true });
    expect((await readProject(await project({ provider: "ollama" }))).secretNames).toEqual([]);
  });

  it("falls back to the key .env.example names when fly.toml names no provider", async () => {
    const dir = await project({ provider: "together" });
    const flyToml = path.join(dir, "fly.toml");
    await fs.writeFile(flyToml, (await fs.readFile(flyToml, "utf8")).replace(/^ {2}PROVIDER = .*\n/m, ""));
    expect((await readProject(dir)).secretNames).toEqual(["TOGETHER_API_KEY"]);
  });

  it("writes a new app name into fly.toml, keeping comments, tables and [processes] app", async () => {
    const dir = await project({ name: "my-api" });
    const before = await fs.readFile(path.join(dir, "fly.toml"), "utf8");
    await writeAppName(dir, "my-api-2");
    const after = await fs.readFile(path.join(dir, "fly.toml"), "utf8");
    expect(after).toBe(before.replace('\napp = "my-api"', '\napp = "my-api-2"'));
    expect(parse(after)).toMatchObject({ app: "my-api-2", processes: { app: expect.stringContaining("uvicorn") } });
  });
});
