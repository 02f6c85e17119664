/**
 * The rules `add`, `remove` and `upgrade` check before anything is rendered: a feature's
 * `requires` (shown with a feature defined here, as no shipped feature requires another), and
 * when uv can lock a staged copy of pyproject.toml instead of the project itself.
 */
import { describe, expect, it } from "vitest";
import { checkFeatureChange, stagedLockUnfit } from "../../src/commands/update.js";
import { UserError } from "../../src/errors.js";
import { FEATURES, type Feature } from "../../src/features/index.js";

/** Summaries of stored conversations: nothing to summarise without postgres. */
const summaries: Feature = {
  id: "summaries",
  description: "Summaries of stored conversations",
  option: { label: "Summaries", hint: "a summary per conversation", default: false },
  requires: ["postgres"],
};
const features = [...FEATURES, summaries];

function refusal(run: () => void): UserError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error("not refused");
}

describe("checkFeatureChange", () => {
  it("refuses to add a feature whose requirement is off, naming the command that adds both", () => {
    const error = refusal(() => checkFeatureChange("add", ["ratelimit"], ["ratelimit", "summaries"], features));
    expect(error.message).toBe("summaries requires postgres, which is off in this project");
    expect(error.hint).toBe("add it in the same step: create-fly-fastapi add summaries postgres");
    expect(error.code).toBe("missing_requirement");
    // With its requirement in the same step, or already on, it goes ahead.
    expect(() => checkFeatureChange("add", ["ratelimit"], ["ratelimit", "summaries", "postgres"], features)).not.toThrow();
    expect(() => checkFeatureChange("add", ["postgres"], ["postgres", "summaries"], features)).not.toThrow();
  });

  it("upgrade's hint names the flags", () => {
    const error = refusal(() => checkFeatureChange("upgrade", [], ["summaries"], features));
    expect(error.hint).toBe("add --postgres, or drop --summaries");
  });

  it("refuses to remove a feature another one that stays requires, naming both in the command that removes them", () => {
    const needsRatelimit = [...FEATURES, { ...summaries, requires: ["ratelimit"] }];
    const error = refusal(() => checkFeatureChange("remove", ["ratelimit", "summaries", "mcp"], ["summaries", "mcp"], needsRatelimit));
    expect(error.message).toBe("cannot remove cleanly: ratelimit (summaries requires it)");
    expect(error.hint).toBe("remove what requires it in the same step: create-fly-fastapi remove ratelimit summaries, or keep it");
    expect(error.code).toBe("not_removable");
    expect(() => checkFeatureChange("remove", ["ratelimit", "summaries"], [], needsRatelimit)).not.toThrow();
  });

  it("refuses to remove postgres, whose deploy provisioned a database", () => {
    const error = refusal(() => checkFeatureChange("remove", ["postgres"], []));
    expect(error.message).toMatch(/^cannot remove cleanly: postgres \(its deploy provisioned postgres-create, postgres-attach on Fly/);
  });
});

describe("stagedLockUnfit", () => {
  it("is undefined for a generated pyproject.toml: uv locks a copy of it as it would the project", () => {
    expect(stagedLockUnfit('[project]\nname = "api"\nversion = "0.1.0"\ndependencies = ["fastapi"]\n\n[tool.uv.sources]\nfastapi = { index = "pypi" }\n')).toBeUndefined();
  });

  it.each([
    ['[project]\nname = "api"\n\n[tool.uv.workspace]\nmembers = ["packages/*"]\n', "the project is a uv workspace"],
    ['[project]\nname = "api"\n\n[tool.uv.sources]\nshared = { path = "../shared" }\n', "a uv source is a local path"],
    ['[project]\nname = "api"\n\n[tool.uv.sources]\nshared = [{ workspace = true }]\n', "a uv source is a local path"],
    ['[project]\nname = "api"\ndynamic = ["version"]\n', "its metadata is dynamic"],
  ])("names why the project itself must be locked: %j", (pyproject, why) => {
    expect(stagedLockUnfit(pyproject)).toBe(why);
  });
});
