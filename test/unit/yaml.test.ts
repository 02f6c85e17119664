/**
 * The workflow file, written with the `yaml` library: it parses back to the workflow object,
 * starts with its header comment, and keeps the shapes GitHub and actionlint read
 * (test/e2e/workflow.test.ts runs actionlint on it).
 */
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { workflow, workflowComment, workflowYaml } from "../../src/features/github-actions.js";
import { enabledFeatures, buildContext } from "../../src/plan.js";
import { resolveOptions } from "../../src/resolve.js";

describe("the workflow file", () => {
  it.each([
    { directory: "my-api" },
    { directory: "my-api", pythonTool: "pip" as const },
    { directory: "x", name: "a-very-long-app-name-0123456789-0123456789-0123456789-012345678" },
    { directory: "api", name: "0", pythonTool: "pip" as const, provider: "groq", region: "syd" },
  ])("parses back to the workflow, for %j", async (given) => {
    const options = await resolveOptions({ install: false, git: false, ...given }, { kind: "defaults" });
    const context = buildContext(options, enabledFeatures(options));
    const written = workflowYaml(context);
    expect(parse(written)).toEqual(JSON.parse(JSON.stringify(workflow(context))));
    // The header, as comment lines before the document.
    const header = workflowComment(context)
      .split("\n")
      .map((line) => `#${line}`)
      .join("\n");
    expect(written.startsWith(`${header}\n`)).toBe(true);
    // Long expressions stay on one line; events without settings have no value; scripts are block literals.
    expect(written).toContain("    if: github.event_name != 'pull_request' && github.ref == format('refs/heads/{0}', github.event.repository.default_branch)\n");
    expect(written).toMatch(/^ {2}pull_request:\n {2}workflow_dispatch:\n/m);
    expect(written).toMatch(/^ {8}run: \|\n {10}if \[ -n "\$FLY_API_TOKEN" \]; then\n/m);
    expect(written.endsWith("\n")).toBe(true);
  });
});
