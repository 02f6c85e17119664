import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dotenvValue, markdownCode, markdownText, pythonString, shellPath, shellWord, tomlString } from "../../src/escape.js";
import { render } from "../../src/render.js";
import { listTemplateFiles } from "../../src/templates.js";

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

  it("a Python assignment is laid out as ruff format writes it: in parentheses only when that makes it fit", () => {
    const assign = (value: string) => render(`{{pyAssign "DEFAULT_MODEL" v}}`, { v: value }, "pyAssign-model");
    expect(assign("gpt-5-mini")).toBe(`DEFAULT_MODEL = "gpt-5-mini"`);
    expect(assign("m".repeat(88))).toBe(`DEFAULT_MODEL = (\n    "${"m".repeat(88)}"\n)`);
    // Too long even on a line of its own: ruff leaves it where it is.
    expect(assign("m".repeat(200))).toBe(`DEFAULT_MODEL = "${"m".repeat(200)}"`);
    // East Asian wide characters take two columns: 44 of them fill 88.
    expect(assign("模".repeat(44))).toBe(`DEFAULT_MODEL = (\n    "${"模".repeat(44)}"\n)`);
    expect(render(`{{pyAssign "DEFAULT_BASE_URL" v}}`, { v: null }, "pyAssign-url")).toBe("DEFAULT_BASE_URL = None");
  });

  it("a set of paths is one line when it fits, else one item a line, as ruff format writes it", () => {
    const set = (paths: string[]) => render(`{{pySet "UNMETERED" v}}`, { v: paths }, "pySet");
    expect(set(["/healthz", "/metrics"])).toBe(`UNMETERED = {"/healthz", "/metrics"}`);
    const many = Array.from({ length: 9 }, (_, i) => `/feature-${i}`);
    expect(set(many)).toBe(`UNMETERED = {\n${many.map((p) => `    "${p}",\n`).join("")}}`);
    expect(set([])).toBe("UNMETERED: set[str] = set()"); // `{}` would be a dict
  });

  it("shell words are quoted only when needed", () => {
    expect(shellWord("--provider")).toBe("--provider");
    expect(shellWord("https://x.test/v1")).toBe("https://x.test/v1");
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
    expect(shellWord("a b")).toBe(`'a b'`);
  });

  it("paths never read as an option", () => {
    expect(shellPath("-dash")).toBe("./-dash");
    expect(shellPath("my api")).toBe(`'my api'`);
    expect(shellPath("../my-api")).toBe("../my-api");
  });

  it("dotenv values are single-quoted for python-dotenv, with its one escape for ${", () => {
    expect(dotenvValue("Qwen/Qwen3-8B")).toBe("Qwen/Qwen3-8B");
    expect(dotenvValue("")).toBe("");
    expect(dotenvValue("a #b")).toBe("'a #b'");
    expect(dotenvValue(`it's \\ "x"`)).toBe(`'it\\'s \\\\ "x"'`);
    expect(dotenvValue("${HOME}/$USER")).toBe("'${:-${}HOME}/$USER'");
  });

  it("Markdown: text escapes what starts markup, a code span outlasts the backticks inside", () => {
    expect(markdownText("my-api")).toBe("my-api");
    expect(markdownText("my_ai_api _x_")).toBe("my_ai_api \\_x\\_");
    expect(markdownText("<!-- a_b | `c` #")).toBe("\\<!-- a_b \\| \\`c\\` \\#");
    expect(markdownCode("npx x")).toBe("`npx x`");
    expect(markdownCode("a `b` c")).toBe("``a `b` c``");
    expect(markdownCode("`b`")).toBe("`` `b` ``");
  });

  it("templates fail loudly on an unknown variable instead of printing nothing", () => {
    expect(() => render("{{missing}}", {}, "t1")).toThrow(/missing/);
    expect(render("name = {{toml name}}", { name: 'x"y' }, "t2")).toBe('name = "x\\"y"');
  });
});

describe("template listing", () => {
  it("leaves out the caches Python tools write when run inside templates/", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cff-templates-"));
    try {
      for (const cache of ["__pycache__", ".ruff_cache", ".pytest_cache", ".mypy_cache"]) {
        mkdirSync(path.join(dir, "app", cache), { recursive: true });
        writeFileSync(path.join(dir, "app", cache, "stale"), "x");
      }
      writeFileSync(path.join(dir, "app", "main.py.hbs"), "app = 1\n");
      writeFileSync(path.join(dir, "_gitignore"), ".venv/\n");
      expect(listTemplateFiles(dir)).toEqual([
        { source: "_gitignore", path: ".gitignore", rendered: false },
        { source: "app/main.py.hbs", path: "app/main.py", rendered: true },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
