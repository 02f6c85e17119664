/**
 * The generated app reads back every hostile value the CLI accepts: from its own default
 * (config.py), from `.env` (a copy of .env.example, read by pydantic-settings through
 * python-dotenv) and from the environment fly.toml gives it; and every base URL the CLI accepts
 * starts the app. One project is generated and installed; the other values' files are planned
 * in-process and read by that project's Python.
 */
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planProject } from "../../src/plan.js";
import { runCli } from "../support/cli.js";
import { ACCEPTED_URLS, HOSTILE_TEXT, cliCheck } from "../support/hostile.js";
import { projectEnv } from "../support/serve.js";

// Quotes of every kind, expansions, a comment, Markdown's comment opener, unicode, and long.
const MODEL = `'\${HOME}"\`$(id)\`\\' #x ü <!-- ${"y".repeat(150)}`;

/** Each case: a config.py and a .env planned for one value, and what the app must read. */
interface Case {
  config: string;
  dotenv: string;
  env: Record<string, string>;
  model: string;
  baseUrl: string;
}

// Loads each case's config.py as its own module, then reads Settings three ways.
const READ_SETTINGS = `
import importlib.util, json, os, sys
cases = json.load(sys.stdin)
out = []
for index, case in enumerate(cases):
    spec = importlib.util.spec_from_file_location(f"config_{index}", case["config"])
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    default = config.Settings(_env_file=None)
    dotenv = config.Settings(_env_file=case["dotenv"])
    os.environ.update(case["env"])
    fly = config.Settings(_env_file=None)
    for name in case["env"]:
        del os.environ[name]
    out.append({name: [s.model, s.base_url] for name, s in [("default", default), ("dotenv", dotenv), ("fly", fly)]})
print(json.dumps(out))
`;

// Starts the app (its lifespan included) with the settings the environment gives, and asks /healthz.
const START_APP = `
import json, os, sys
from fastapi.testclient import TestClient
from app.config import Settings
from app.main import create_app
out = []
for url in json.load(sys.stdin):
    os.environ["BASE_URL"] = url
    settings = Settings(_env_file=None)
    with TestClient(create_app(settings)) as client:
        out.append([settings.base_url, client.get("/healthz").status_code])
print(json.dumps(out))
`;

describe("hostile values in the generated app", () => {
  let root: string;
  let dir: string;
  const python = () => path.join(dir, ".venv/bin/python");

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-hostile-"));
    dir = path.join(root, "hostile");
    const args = [dir, "--provider", "custom", "--base-url", "HTTPS://llm.example/v1\n", "--model", MODEL, "--no-git", "--yes", "--install", "--json"];
    const result = await runCli(args);
    if (result.exitCode !== 0) throw new Error(`CLI failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
    expect(JSON.parse(result.stdout).options).toMatchObject({ model: MODEL, baseUrl: "https://llm.example/v1" });
  });

  afterAll(async () => {
    if (root) await fs.remove(root);
  });

  it("the project with that model passes ruff check, ruff format --check and its own pytest", async () => {
    const env = projectEnv();
    const check = await execa(path.join(dir, ".venv/bin/ruff"), ["check", "."], { cwd: dir, env, extendEnv: false, reject: false, all: true });
    expect(check.exitCode, check.all).toBe(0);
    const format = await execa(path.join(dir, ".venv/bin/ruff"), ["format", "--check", "."], { cwd: dir, env, extendEnv: false, reject: false, all: true });
    expect(format.exitCode, format.all).toBe(0);
    const pytest = await execa(path.join(dir, ".venv/bin/pytest"), ["-q"], { cwd: dir, env, extendEnv: false, reject: false, all: true });
    expect(pytest.exitCode, pytest.all?.slice(-3000)).toBe(0);
  }, 300_000);

  it("the project reads its model from config.py, from .env copied from .env.example, and from fly.toml's [env]", async () => {
    await fs.copy(path.join(dir, ".env.example"), path.join(dir, ".env"));
    const fly = parseToml(await fs.readFile(path.join(dir, "fly.toml"), "utf8")) as { env: Record<string, string> };
    const read = `
import json, os, sys
from app.config import Settings
print(json.dumps([Settings().model, Settings(_env_file=None).model]))
os.environ.update(json.load(sys.stdin))
print(json.dumps(Settings(_env_file=None).model))
`;
    const result = await execa(python(), ["-c", read], { cwd: dir, env: projectEnv(), extendEnv: false, input: JSON.stringify({ MODEL: fly.env.MODEL }) });
    const [fromFiles, fromFly] = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(fromFiles).toEqual([MODEL, MODEL]);
    expect(fromFly).toBe(MODEL);
  });

  it(`each of ${HOSTILE_TEXT.length} hostile model ids and ${ACCEPTED_URLS.length} base URLs reads back exactly from config.py, .env and fly.toml`, async () => {
    const cases: Case[] = [];
    const values = [
      ...HOSTILE_TEXT.map((model) => ({ model, baseUrl: "https://llm.example/v1" })),
      ...ACCEPTED_URLS.map(([baseUrl]) => ({ model: "m", baseUrl })),
    ];
    for (const [index, value] of values.entries()) {
      const options = await cliCheck({ directory: path.join(root, "planned"), provider: "custom", ...value });
      if (typeof options === "string") throw new Error(`refused ${JSON.stringify(value)}: ${options}`);
      const plan = planProject(options);
      const content = (name: string) => plan.files.find((f) => f.path === name)!.content;
      const config = path.join(root, `config_${index}.py`);
      const dotenv = path.join(root, `env_${index}`);
      await fs.writeFile(config, content("app/config.py"));
      await fs.writeFile(dotenv, content(".env.example"));
      const env = (parseToml(content("fly.toml")) as { env: Record<string, string> }).env;
      cases.push({ config, dotenv, env: { MODEL: env.MODEL!, BASE_URL: env.BASE_URL! }, model: options.model, baseUrl: options.baseUrl });
    }
    const result = await execa(python(), ["-c", READ_SETTINGS], { cwd: root, env: projectEnv(), extendEnv: false, input: JSON.stringify(cases) });
    const read = JSON.parse(result.stdout) as Record<string, [string, string]>[];
    expect(read).toEqual(cases.map((c) => ({ default: [c.model, c.baseUrl], dotenv: [c.model, c.baseUrl], fly: [c.model, c.baseUrl] })));
    expect(read.map((r) => r.dotenv![0])).toContain("${HOME}");
  });

  it(`each of ${ACCEPTED_URLS.length} base URLs the CLI accepts starts the generated app`, async () => {
    const kept = ACCEPTED_URLS.map(([, url]) => url);
    const result = await execa(python(), ["-c", START_APP], {
      cwd: dir,
      env: projectEnv({ PROVIDER: "openai-compatible", INFERENCE_API_KEY: "sk-test-not-a-real-key" }),
      extendEnv: false,
      input: JSON.stringify(kept),
      reject: false,
      all: true,
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").pop()!)).toEqual(kept.map((url) => [url, 200]));
  });
});
