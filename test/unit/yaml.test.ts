/**
 * src/yaml.ts against the `yaml` library: the workflow file, and random documents, must come
 * out byte for byte as `new Document(value)` with a commentBefore, `{ lineWidth: 0, nullStr: "" }`.
 */
import { Document, parse } from "yaml";
import { describe, expect, it } from "vitest";
import { workflow, workflowComment, workflowYaml } from "../../src/features/github-actions.js";
import { enabledFeatures, buildContext } from "../../src/plan.js";
import { resolveOptions } from "../../src/resolve.js";
import { toYaml, type YamlValue } from "../../src/yaml.js";

function withYamlLibrary(value: { [key: string]: YamlValue }, comment?: string): string {
  const doc = new Document(value);
  if (comment !== undefined) doc.commentBefore = comment;
  return doc.toString({ lineWidth: 0, nullStr: "" });
}

describe("the workflow file", () => {
  it.each([
    { directory: "my-api" },
    { directory: "my-api", pythonTool: "pip" as const },
    { directory: "x", name: "a-very-long-app-name-0123456789-0123456789-0123456789-012345678" },
    { directory: "api", name: "0", pythonTool: "pip" as const, provider: "groq", region: "syd" },
  ])("is what the yaml library writes, for %j", async (given) => {
    const options = await resolveOptions({ install: false, git: false, ...given }, { kind: "defaults" });
    const context = buildContext(options, enabledFeatures(options));
    const written = workflowYaml(context);
    expect(written).toBe(withYamlLibrary(workflow(context), workflowComment(context)));
    expect(parse(written)).toEqual(JSON.parse(JSON.stringify(workflow(context))));
  });
});

describe("toYaml", () => {
  // A small deterministic generator, so a failure can be replayed.
  let seed = 7;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const pick = <T>(list: readonly T[]): T => list[random(list.length)]!;
  // Mostly pieces a workflow is made of, sometimes one that needs quoting or cannot be written.
  const COMMON = ["a", "Z", "run", "echo hi", "0", "7", "1.5", ".", "-", "_", "/", " ", ":", "#", "$", "${{ x }}", "'", '"', "@", "=", "\n"];
  const RARE = [
    ": ", " #", "\\", "\t", "%", "!", "&", "*", "?", "|", ">", "[", "]", "{", "}", ",", "~", "---", "...", "true", "null",
    "0x1f", "0o7", ".inf", "e5", "<<", "é", "\u0007", "\n\n",
  ];
  const string = () => Array.from({ length: random(5) }, () => (random(8) === 0 ? pick(RARE) : pick(COMMON))).join("");
  const scalar = (): YamlValue => pick<() => YamlValue>([string, string, string, () => random(1000) - 500, () => random(2) === 0, () => null])();
  const value = (depth: number): YamlValue => {
    const kind = depth > 2 ? 0 : random(4);
    if (kind === 2) return Array.from({ length: 1 + random(3) }, () => (random(3) === 0 ? mapping(depth + 1) : scalar()));
    if (kind === 3) return mapping(depth + 1);
    return scalar();
  };
  const mapping = (depth: number): { [key: string]: YamlValue } =>
    Object.fromEntries(Array.from({ length: 1 + random(3) }, () => [random(3) === 0 ? string() : pick(["on", "run", "with", "if", "a-b", "x_y", "1"]), value(depth)]));

  it("writes strings as the yaml library does, or refuses", () => {
    let written = 0;
    for (let i = 0; i < 50_000; i++) {
      const doc = { [pick(["a", "run", "1", string()])]: string() };
      let ours: string;
      try {
        ours = toYaml(doc);
      } catch (error) {
        expect((error as Error).message).toMatch(/^src\/yaml\.ts does not write/);
        continue;
      }
      written++;
      expect(ours, JSON.stringify(doc)).toBe(withYamlLibrary(doc));
    }
    expect(written).toBeGreaterThan(20_000);
  });

  it("writes documents as the yaml library does, or refuses", () => {
    let written = 0;
    for (let i = 0; i < 20_000; i++) {
      const doc = mapping(0);
      const comment = random(2) === 0 ? undefined : Array.from({ length: 1 + random(3) }, string).join("\n");
      let ours: string;
      try {
        ours = toYaml(doc, comment);
      } catch (error) {
        expect((error as Error).message).toMatch(/^src\/yaml\.ts does not write/);
        continue;
      }
      written++;
      expect(ours, JSON.stringify({ doc, comment })).toBe(withYamlLibrary(doc, comment));
    }
    // Enough of them are written, not refused, for the comparison to mean something.
    expect(written).toBeGreaterThan(2_000);
  });

  it("writes block literals and quotes as the workflow needs them", () => {
    const doc = { "python-version": "3.13", on: { pull_request: null }, run: "a\nb\n", steps: [{ uses: "x@v1", with: { n: 1 } }, "plain"] };
    expect(toYaml(doc)).toBe(withYamlLibrary(doc));
    expect(toYaml(doc)).toBe('python-version: "3.13"\non:\n  pull_request:\nrun: |\n  a\n  b\nsteps:\n  - uses: x@v1\n    with:\n      n: 1\n  - plain\n');
  });

  it("refuses what it would not write as the yaml library does", () => {
    expect(() => toYaml({ a: "no newline at the end\nof this" })).toThrow(/multi-line/);
    expect(() => toYaml({ a: "'quoted'" })).toThrow(/string/);
    expect(() => toYaml({ a: 1.5 })).toThrow(/number/);
    expect(() => toYaml({ a: {} })).toThrow(/empty mapping/);
    expect(() => toYaml({ a: [[1]] })).toThrow(/sequence in a sequence/);
  });
});
