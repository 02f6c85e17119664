import { describe, expect, it } from "vitest";
import { parseArgs } from "../../src/args.js";

describe("parseArgs", () => {
  it("reads the directory, value flags in both spellings, negations and short flags", () => {
    const args = parseArgs(["my-api", "--provider", "groq", "--region=fra", "--no-git", "-y"]);
    expect(args.command).toBe("create");
    expect(args.given).toEqual({ directory: "my-api", provider: "groq", region: "fra", git: false });
    expect([...args.flags]).toEqual(["yes"]);
  });

  it("treats a first positional of exactly `deploy` as the subcommand, and ./deploy as a directory", () => {
    expect(parseArgs(["deploy", "my-api"])).toMatchObject({ command: "deploy", given: { directory: "my-api" } });
    expect(parseArgs(["./deploy"])).toMatchObject({ command: "create", given: { directory: "./deploy" } });
  });

  it("puts each feature's flag pair under features, and deploy flags apart", () => {
    const args = parseArgs(["--no-mcp", "--auth", "--org", "acme", "--json"]);
    expect(args).toMatchObject({ given: { features: { mcp: false, auth: true } }, deploy: { org: "acme" } });
    expect([...args.flags]).toEqual(["json"]);
    expect(() => parseArgs(["--mcp", "--no-mcp"])).toThrow("--mcp is given twice");
    expect(() => parseArgs(["--no-json"])).toThrow("unknown option --no-json");
  });

  it("keeps values that contain = after the first one", () => {
    expect(parseArgs(["--base-url=https://x.test/v1?a=b"]).given.baseUrl).toBe("https://x.test/v1?a=b");
  });

  it.each([
    [["--regoin", "fra"], "unknown option --regoin; did you mean --region?"],
    [["--provider"], "--provider needs a value"],
    [["--provider", "--yes"], "--provider needs a value"],
    [["--yes=1"], "--yes takes no value"],
    [["--no-provider"], "--provider takes a value"],
    [["a", "b"], "expected one directory, got 2"],
    [["-x"], "unknown option -x"],
    [["--name", "a", "--name", "b"], "--name is given twice"],
  ])("rejects %j with a clear message", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });
});
