import { describe, expect, it } from "vitest";
import type { ProjectOptions } from "../../src/options.js";
import { OPTIONAL_FEATURES, defaultFeatures } from "../../src/features/index.js";
import { PROJECT_OPTIONS, appNameFrom, optionsFor } from "../../src/options.js";
import { resolve, resolveOptions, type Ask } from "../../src/resolve.js";

describe("resolveOptions", () => {
  it("fills every default with --yes, deriving the app name from the directory", async () => {
    const options = await resolveOptions({ directory: "My Cool_API" }, { kind: "defaults" });
    expect(options).toEqual({
      directory: "My Cool_API",
      name: "my-cool-api",
      provider: "mock",
      baseUrl: "",
      model: "mock-echo",
      region: "iad",
      pythonTool: "uv",
      git: true,
      install: true,
      features: defaultFeatures(),
    });
  });

  it("takes the provider's preset for base URL and model, and lets flags override them", async () => {
    const groq = await resolveOptions({ directory: "x", provider: "groq" }, { kind: "defaults" });
    expect(groq).toMatchObject({ baseUrl: "https://api.groq.com/openai/v1", model: "llama-3.3-70b-versatile" });
    const custom = await resolveOptions(
      { directory: "x", provider: "custom", baseUrl: "https://vllm.example.modal.run/v1", model: "Qwen/Qwen3-8B" },
      { kind: "defaults" },
    );
    expect(custom).toMatchObject({ baseUrl: "https://vllm.example.modal.run/v1", model: "Qwen/Qwen3-8B" });
  });

  it.each([
    [{ name: "My_App" }, 'invalid app name "My_App": use 1-63 lowercase letters, digits and dashes'],
    [{ name: "-app" }, "invalid app name"],
    [{ provider: "anthropic" }, 'unknown provider "anthropic": choose one of mock, openai, groq'],
    [{ region: "xyz" }, 'unknown region "xyz": choose one of iad'],
    [{ pythonTool: "poetry" }, 'unknown python-tool "poetry": choose one of uv, pip'],
    [{ provider: "custom" }, "missing --base-url <url>: it has no default with --provider custom"],
    [{ provider: "custom", baseUrl: "https://x.test/v1" }, "missing --model <id>: it has no default with --provider custom"],
    [{ provider: "custom", baseUrl: "ftp://x.test" }, "must start with http:// or https://"],
    [{ provider: "openai", baseUrl: "not a url" }, '"not a url" is not a URL'],
    [{ provider: "openai", baseUrl: "https://user:pw@x.test/v1" }, "must not carry credentials"],
    [{ provider: "mock", baseUrl: "https://x.test/v1" }, "--base-url does not apply to --provider mock"],
    [{ provider: "groq", model: "bad\nmodel" }, "the model id must be 1-200 printable characters"],
  ])("rejects %j", async (given, message) => {
    await expect(resolveOptions({ directory: "x", ...(given as Partial<ProjectOptions>) }, { kind: "defaults" })).rejects.toThrow(message);
  });

  it("without a terminal or --yes, names every flag still missing instead of waiting", async () => {
    // Each optional feature adds its own "--<id> or --no-<id>" between --python-tool and --git.
    await expect(resolveOptions({ directory: "x", provider: "mock" }, { kind: "flags-only" })).rejects.toThrow(
      /^no terminal to ask in: pass --yes to accept the defaults, or give --name <app>, --region <code>, --python-tool <uv\|pip>, (--([a-z-]+) or --no-\2, )*--git or --no-git, --install or --no-install$/,
    );
  });

  it("asks only what the flags leave open, in order, with defaults from earlier answers", async () => {
    const asked: string[] = [];
    const ask: Ask = async (decl, initial) => {
      asked.push(`${decl.key}=${String(initial)}`);
      return decl.key === "provider" ? "together" : initial;
    };
    const options = await resolveOptions({ directory: "api", region: "fra" }, { kind: "ask", ask });
    // The optional features are asked together, as one question (whatever features exist).
    expect(asked.filter((question) => !question.startsWith("features="))).toEqual([
      "name=api",
      "provider=mock",
      "model=meta-llama/Llama-3.3-70B-Instruct-Turbo",
      "pythonTool=uv",
      "git=true",
      "install=true",
    ]);
    expect(options).toMatchObject({ provider: "together", baseUrl: "https://api.together.xyz/v1", region: "fra" });
  });

  it("asks for the base URL only for custom", async () => {
    const asked: string[] = [];
    const ask: Ask = async (decl, initial) => {
      asked.push(decl.key);
      if (decl.key === "provider") return "custom";
      if (decl.key === "baseUrl") return "http://127.0.0.1:8000/v1";
      if (decl.key === "model") return "my-model";
      return initial;
    };
    const options = await resolveOptions({ directory: "api" }, { kind: "ask", ask });
    expect(asked).toContain("baseUrl");
    expect(options).toMatchObject({ baseUrl: "http://127.0.0.1:8000/v1", model: "my-model" });
  });
});

describe("one resolver for every command", () => {
  it("takes recorded answers before the defaults, and still lets a flag override them", async () => {
    const decls = optionsFor("deploy", ["deploy"]);
    const recorded = { org: "acme", regions: "fra,sin" };
    expect(await resolve(decls, {}, { kind: "defaults" }, { command: "deploy", recorded })).toEqual({ ...recorded, ha: false, redis: false });
    expect(await resolve(decls, { regions: "syd" }, { kind: "defaults" }, { command: "deploy", recorded })).toEqual({ org: "acme", regions: "syd", ha: false, redis: false });
  });

  it("asks with the recorded answer as the initial one, and reads what it knows but does not resolve", async () => {
    const seen: [string, unknown, unknown][] = [];
    const ask: Ask = async (question, initial, answers) => (seen.push([question.key, initial, answers.region]), initial);
    const resolved = await resolve(optionsFor("deploy", ["deploy"]), {}, { kind: "ask", ask }, { command: "deploy", known: { region: "fra" }, recorded: { regions: "sin" } });
    expect(seen).toEqual([["regions", "sin", "fra"]]);
    expect(resolved).toEqual({ org: "personal", regions: "sin", ha: false, redis: false });
  });

  it("expands every optional feature into an option of the features group, with its own flag pair", () => {
    const features = PROJECT_OPTIONS.filter((o) => o.group === "features");
    expect(features.map((o) => o.key)).toEqual(OPTIONAL_FEATURES.map((f) => f.id));
    for (const option of features) expect(option).toMatchObject({ type: "boolean", flag: option.key, commands: ["create", "upgrade"] });
  });

  it("gives each command its own view of a shared option", () => {
    const name = optionsFor("deploy").find((o) => o.key === "name")!;
    expect(name.prompt).toBeUndefined();
    expect(name.default({ directory: "x" })).toBe("");
    expect(optionsFor("create").find((o) => o.key === "name")!.default({ directory: "My Api" })).toBe("my-api");
  });
});

describe("appNameFrom", () => {
  it.each([
    ["my-api", "my-api"],
    ["/tmp/projects/My API v2", "my-api-v2"],
    ["___", "fly-fastapi-app"],
    ["a".repeat(80), "a".repeat(63)],
  ])("%s -> %s", (dir, name) => {
    expect(appNameFrom(dir)).toBe(name);
  });
});
