import { describe, expect, it } from "vitest";
import type { ProjectOptions } from "../../src/options.js";
import { nextSteps, planProject } from "../../src/plan.js";
import { resolveOptions } from "../../src/resolve.js";

/** The commands of a Markdown file's `sh` blocks, continuation lines joined, comments dropped. */
const shCommands = (markdown: string) =>
  [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) =>
    m[1]!
      .replace(/\\\n/g, "")
      .split("\n")
      .map((line) => line.replace(/\s+#\s.*$/, "").trim())
      .filter(Boolean),
  );

describe("the printed next steps", () => {
  for (const pythonTool of ["uv", "pip"] as const) {
    for (const installed of [true, false]) {
      it(`are the README's own commands, with ${pythonTool}${installed ? "" : " before the install"}`, async () => {
        const options = await resolveOptions({ directory: "my-api", pythonTool, install: installed, git: false } as Partial<ProjectOptions>, { kind: "defaults" });
        const readme = planProject(options).files.find((f) => f.path === "README.md")!.content;
        const commands = shCommands(readme);
        const steps = nextSteps(options, { installed }).filter((step) => !step.startsWith("cd ") && !step.startsWith("npx "));
        expect(steps.length).toBeGreaterThanOrEqual(2);
        for (const step of steps) expect(commands, step).toContain(step);
      });
    }
  }

  it("cd into a directory named like an option goes through ./", async () => {
    const options = await resolveOptions({ directory: "-dash", install: false, git: false }, { kind: "defaults" });
    expect(nextSteps(options)[0]).toBe("cd ./-dash");
  });
});
