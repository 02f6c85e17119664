import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { GENERATOR } from "../../src/meta.js";
import type { ProjectOptions } from "../../src/options.js";
import { planProject } from "../../src/plan.js";
import { findRecorded, readRecorded, recordedTable } from "../../src/recorded.js";
import { resolveOptions } from "../../src/resolve.js";

const resolved = (given: Partial<ProjectOptions>) => resolveOptions({ directory: "my-api", install: false, git: false, ...given }, { kind: "defaults" });
const pyproject = (options: ProjectOptions, extras: Parameters<typeof planProject>[1] = {}) =>
  planProject(options, extras).files.find((f) => f.path === "pyproject.toml")!.content;

describe("[tool.create-fly-fastapi] in the generated pyproject.toml", () => {
  it("records the generator version and every resolved option but the directory, keyed by flag", async () => {
    const options = await resolved({ provider: "groq", region: "fra", pythonTool: "pip", features: { mcp: true, auth: false } });
    const table = (parse(pyproject(options, { regions: ["sin", "fra"], org: "acme" })) as { tool: Record<string, unknown> }).tool["create-fly-fastapi"];
    expect(table).toEqual({
      version: GENERATOR.version,
      name: "my-api",
      provider: "groq",
      "base-url": "https://api.groq.com/openai/v1",
      model: "llama-3.3-70b-versatile",
      region: "fra",
      "python-tool": "pip",
      git: false,
      install: false,
      org: "acme",
      // The primary region is never an extra one.
      regions: ["sin"],
      features: options.features,
    });
    expect(JSON.stringify(table)).not.toContain("directory");
  });

  it("reads back, through the same declarations, exactly the options it recorded, hostile values included", async () => {
    for (const given of [{}, { provider: "custom", baseUrl: "https://x.test/v1?a=b&c='d'", model: `m "q" \\ ' $HOME \${HOME}` }, { provider: "mock", features: {} }]) {
      const options = await resolved(given as Partial<ProjectOptions>);
      const table = findRecorded(pyproject(options))!;
      expect(await readRecorded(table, "pyproject.toml")).toEqual({ ...options, directory: "", org: "personal", regions: "" });
    }
  });

  it("refuses a recorded value its option refuses, naming the file, the table and the option", async () => {
    const table = findRecorded(recordedTable({ ...(await resolved({})), provider: "anthropic" }))!;
    await expect(readRecorded(table, "x/pyproject.toml")).rejects.toThrow('x/pyproject.toml: [tool.create-fly-fastapi]: unknown provider "anthropic": choose one of mock');
    const wrongType = { ...findRecorded(recordedTable(await resolved({})))!, git: "yes" };
    await expect(readRecorded(wrongType, "pyproject.toml")).rejects.toThrow("--git is on or off");
    const { provider: _dropped, ...incomplete } = findRecorded(recordedTable(await resolved({})))!;
    await expect(readRecorded(incomplete, "pyproject.toml")).rejects.toThrow('does not record "provider"');
  });

  it("is no table at all in a pyproject.toml without one, or one that does not parse", () => {
    expect(findRecorded('[project]\nname = "x"\n')).toBeUndefined();
    expect(findRecorded("[project\n")).toBeUndefined();
  });
});
