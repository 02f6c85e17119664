import fs from "fs-extra";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { helpText, optionRows, optionsReference } from "../../src/help.js";
import { REPO_ROOT } from "../support/tools.js";

const reference = path.join(REPO_ROOT, "docs/options.md");

describe("docs/options.md", () => {
  it("matches the option declarations (regenerate with UPDATE_DOCS=1)", async () => {
    const expected = optionsReference();
    if (process.env.UPDATE_DOCS) await fs.outputFile(reference, expected);
    expect(await fs.readFile(reference, "utf8")).toBe(expected);
  });

  it("--help sets every flag apart from its description", () => {
    const help = helpText().split("\n");
    for (const row of optionRows()) {
      const line = help.find((l) => l.startsWith(`  ${row.flag}`));
      expect(line?.slice(2 + row.flag.length), row.flag).toMatch(/^ {2,}\S/);
    }
  });

  it("documents exactly the flags --help shows", () => {
    const help = helpText();
    for (const row of optionRows()) {
      expect(help).toContain(row.flag);
      expect(optionsReference()).toContain(row.flag.replace(/\|/g, "\\|"));
    }
  });
});
