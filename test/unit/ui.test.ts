import { afterEach, describe, expect, it, vi } from "vitest";
import { pickUi } from "../../src/cli.js";
import { plainUi } from "../../src/ui.js";

afterEach(() => vi.restoreAllMocks());

describe("the one Ui of a run", () => {
  it("--json: progress as plain lines on stderr, nothing on stdout, nothing asked", async () => {
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const ui = await pickUi(new Set(["json"]), {});
    expect(ui).toMatchObject({ kind: "json", interactive: false });
    ui.step("Writing the project").done("Wrote 3 files");
    ui.note("Next steps", ["uv sync"]);
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr.mock.calls.map(([text]) => String(text))).toEqual(["Writing the project…\n", "  ✓ Wrote 3 files\n", "\nNext steps:\n", "  uv sync\n"]);
  });

  it("without a terminal, or with CI=true: plain lines that never ask", async () => {
    for (const env of [{}, { CI: "true" }, { NO_COLOR: "1" }]) {
      const ui = await pickUi(new Set(), env);
      expect(ui).toMatchObject({ kind: "plain", interactive: false });
      await expect(ui.confirm("Deploy?")).rejects.toThrow("nothing is asked without a terminal");
    }
  });

  it("plain lines carry no escape code, whatever a tool printed", () => {
    const lines: string[] = [];
    const ui = plainUi((line) => lines.push(line));
    const step = ui.step("\x1b[1mDeploying\x1b[0m", { streams: true });
    step.line("\x1b[32m==> Building image\x1b[0m\x1b]0;title\x07");
    step.fail("\x1b[31mfailed\x1b[0m");
    expect(lines).toEqual(["Deploying…", "  │ ==> Building image", "  ✗ failed"]);
  });
});
