import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../support/cli.js";
import { REPO_ROOT } from "../support/tools.js";

const DOWN = "\x1b[B";
const ENTER = "\r";

async function drive(args: string[], steps: [string, string][], cwd: string) {
  const script = { argv: ["node", BIN, ...args], cwd, steps, timeout: 30 };
  const result = await execa("python3", [path.join(REPO_ROOT, "test/support/pty_drive.py"), JSON.stringify(script)]);
  return JSON.parse(result.stdout) as { exit: number; output: string; unmatched: string[] };
}

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-tty-"));
});
afterAll(async () => {
  await fs.remove(root);
});

describe("in a terminal", () => {
  it("asks the questions the flags leave open, then writes the project and prints the equivalent command", async () => {
    const run = await drive(
      ["--no-install", "--no-git"],
      [
        ["Where should the project be created", `chat-api${ENTER}`],
        ["Fly app name", ENTER],
        ["Which inference provider", `${DOWN}${DOWN}${ENTER}`],
        ["Model", ENTER],
        ["Primary Fly region", `${DOWN}${ENTER}`],
        ["Python package manager", ENTER],
        ["Which features", ENTER],
        ["Deploy to Fly.io now", ENTER],
      ],
      root,
    );
    expect(run.unmatched).toEqual([]);
    expect(run.exit).toBe(0);
    expect(run.output).toContain("Next steps");
    // Every optional feature is spelt out as --<id> or --no-<id> between --python-tool and --git;
    // the directory comes last, after --.
    expect(run.output).toMatch(
      /npx create-fly-fastapi@0\.1\.0 --name chat-api --provider groq --base-url https:\/\/api\.groq\.com\/openai\/v1 --model llama-3\.3-70b-versatile --region ewr --python-tool uv (--(no-)?[a-z-]+ )*--no-git --no-install --yes -- chat-api/,
    );
    const fly = await fs.readFile(path.join(root, "chat-api/fly.toml"), "utf8");
    expect(fly).toContain('primary_region = "ewr"');
  });

  it("re-asks when an answer is invalid, saying what is allowed", async () => {
    const run = await drive(
      ["named-app", "--no-install", "--no-git", "--provider", "mock", "--region", "iad", "--python-tool", "pip"],
      [
        ["Fly app name", `Bad_Name${ENTER}`],
        ["lowercase letters, digits and dashes", `\x7f`.repeat(8) + `good-name${ENTER}`],
        ["Which features", ENTER],
        ["Deploy to Fly.io now", ENTER],
      ],
      root,
    );
    expect(run.unmatched).toEqual([]);
    expect(run.exit).toBe(0);
    expect(await fs.readFile(path.join(root, "named-app/fly.toml"), "utf8")).toContain('app = "good-name"');
  });

  it("Ctrl-C cancels cleanly with exit code 1 and writes nothing", async () => {
    const run = await drive(["cancelled-app"], [["Fly app name", "\x03"]], root);
    expect(run.unmatched).toEqual([]);
    expect(run.exit).toBe(1);
    expect(run.output).toContain("Cancelled: nothing was written.");
    expect(await fs.pathExists(path.join(root, "cancelled-app"))).toBe(false);
  });
});
