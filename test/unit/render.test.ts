import { describe, expect, it } from "vitest";
import { pythonString, render, shellWord, tomlString } from "../../src/render.js";

describe("escaping per target format", () => {
  const nasty = `a"b\\c'd\n$(rm -rf ~)\u0007`;

  it("TOML strings survive quotes, backslashes and control characters", async () => {
    const { parse } = await import("smol-toml");
    expect(parse(`v = ${tomlString(nasty)}`)).toEqual({ v: nasty });
  });

  it("Python literals round-trip through JSON-compatible escapes, and null becomes None", () => {
    expect(pythonString(null)).toBe("None");
    expect(pythonString(`say "hi"\\`)).toBe(`'say "hi"\\\\'`);
    expect(pythonString(`it's "x"`)).toBe(`'it\\'s "x"'`);
    expect(pythonString(`it's`)).toBe(`"it's"`);
    expect(pythonString("line\nbreak")).toBe(`"line\\x0abreak"`);
  });

  it("shell words are quoted only when needed", () => {
    expect(shellWord("--provider")).toBe("--provider");
    expect(shellWord("https://x.test/v1")).toBe("https://x.test/v1");
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
    expect(shellWord("a b")).toBe(`'a b'`);
  });

  it("templates fail loudly on an unknown variable instead of printing nothing", () => {
    expect(() => render("{{missing}}", {}, "t1")).toThrow(/missing/);
    expect(render("name = {{toml name}}", { name: 'x"y' }, "t2")).toBe('name = "x\\"y"');
  });
});
