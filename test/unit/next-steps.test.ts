import path from "node:path";
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

describe("the deploy's printed re-run command", () => {
  it("names a directory that looks like an option through ./, and runs as one command", async () => {
    const { rerunCommand } = await import("../../src/deploy/index.js");
    const line = rerunCommand(path.resolve("-dash"), { org: "acme", regions: "fra,sin", ha: false }, "my-app");
    expect(line).toBe("npx create-fly-fastapi deploy ./-dash --org acme --regions fra,sin --no-ha --name my-app");
    expect(rerunCommand(path.resolve("with space"), {})).toBe("npx create-fly-fastapi deploy 'with space'");
  });
});
