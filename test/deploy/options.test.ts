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
import { DEPLOY_OPTIONS, type Question } from "../../src/options.js";
import type { Mode } from "../../src/resolve.js";
import { UserError } from "../../src/errors.js";
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
    expect(await resolveDeployOptions({})).toEqual({ deploy: false, org: "personal", regions: "", ha: false, redis: false });
    const asked: string[] = [];
    const ask = (answer: (question: Question) => unknown, log: string[]): Mode => ({
      kind: "ask",
      ask: async (question) => (log.push("flag" in question ? question.flag : question.key), answer(question)),
    });
    const answers = await resolveDeployOptions({ org: "acme" }, ask((decl) => (decl.type === "boolean" ? true : "fra,sin"), asked));
    // The extra regions are asked only when deploying now.
    expect(asked).toEqual(["deploy", "regions"]);
    expect(answers).toEqual({ deploy: true, org: "acme", regions: "fra,sin", ha: false, redis: false });
    const notDeploying: string[] = [];
    expect(await resolveDeployOptions({}, ask(() => false, notDeploying))).toEqual({ deploy: false, org: "personal", regions: "", ha: false, redis: false });
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
    for (const step of ["preflight", "app", "postgres", "redis", "secrets", "deploy", "regions", "smoke"]) expect(doc).toContain(`| \`${step}: `);
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

  it("reads the provider from the recorded options, not from fly.toml's [env]", async () => {
    const dir = await project({ provider: "together" });
    const flyToml = path.join(dir, "fly.toml");
    await fs.writeFile(flyToml, (await fs.readFile(flyToml, "utf8")).replace(/^ {2}PROVIDER = .*\n/m, ""));
    expect((await readProject(dir)).secretNames).toEqual(["TOGETHER_API_KEY"]);
  });

  it("without recorded options: one line that says so, and a hint with the lines to add, read from fly.toml and the Dockerfile", async () => {
    const dir = await project({ provider: "together", region: "fra", recorded: false });
    const error = (await readProject(dir).catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.code).toBe("no_recorded_options");
    expect(error.message).not.toContain("\n");
    expect(error.message).toContain("pyproject.toml does not record the options the project was created with ([tool.create-fly-fastapi])");
    const [advice, ...lines] = error.hint!.split("\n");
    expect(advice).toMatch(/^add its \[tool\.create-fly-fastapi\] table with these lines .*or re-create the project/);
    expect(lines).toEqual(expect.arrayContaining(["[tool.create-fly-fastapi]", 'name = "my-api"', 'provider = "together"', 'region = "fra"', 'python-tool = "uv"']));
    // The lines, as printed, are what the deploy needs.
    await fs.appendFile(path.join(dir, "pyproject.toml"), `\n${lines.join("\n")}\n`);
    expect(await readProject(dir)).toMatchObject({ provider: { id: "together" }, secretNames: ["TOGETHER_API_KEY"] });
  });

  it("with the feature list an older version recorded: the hint says to replace the table, features kept", async () => {
    const dir = await project({ recorded: false });
    await fs.appendFile(path.join(dir, "pyproject.toml"), '\n[tool.create-fly-fastapi]\nversion = "0.0.9"\nfeatures = ["auth"]\n');
    const error = (await readProject(dir).catch((e: unknown) => e)) as UserError;
    expect(error.hint).toMatch(/^replace its \[tool\.create-fly-fastapi\] table/);
    expect(error.hint).toContain("[tool.create-fly-fastapi.features]\nauth = true");
  });

  it("refuses a recorded value its declaration refuses", async () => {
    const dir = await project({});
    const file = path.join(dir, "pyproject.toml");
    await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace('region = "iad"', 'region = "mars"'));
    await expect(readProject(dir)).rejects.toThrow(/pyproject\.toml: \[tool\.create-fly-fastapi\]: unknown region "mars"/);
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
