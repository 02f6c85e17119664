import { execa } from "execa";
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { BIN } from "../support/cli.js";
import { REPO_ROOT } from "../support/tools.js";
import { KEY, startFakeApp, workspace, type Workspace } from "./helpers.js";

const PTY_DRIVE = path.join(REPO_ROOT, "test/support/pty_drive.py");

let ws: Workspace;
afterEach(() => ws?.remove());

/** Runs the CLI in a pseudo-terminal (100 columns), typing `steps` as their prompts appear. */
async function inTerminal(args: string[], env: Record<string, string>, steps: [string, string][]) {
  const command = `stty cols 100 rows 40; exec ${[process.execPath, BIN, ...args].map((w) => `'${w}'`).join(" ")}`;
  const script = { argv: ["sh", "-c", command], cwd: ws.root, env, steps, timeout: 45 };
  const result = await execa("python3", [PTY_DRIVE, JSON.stringify(script)], { extendEnv: false, env: { PATH: env.PATH! } });
  return JSON.parse(result.stdout) as { exit: number; output: string; unmatched: string[] };
}

it("in a terminal: offers extra regions, asks for the key masked, offers another name when taken, streams the build, shows the summary", async () => {
  ws = await workspace();
  const app = await startFakeApp();
  try {
    const env = ws.env({ taken: ["my-api"] }, app.env);
    delete (env as Record<string, string | undefined>).CI;
    const DOWN = "\x1b[B";
    const run = await inTerminal(["deploy", "my-api"], env, [
      // The cursor starts on ewr (iad, the project's primary region, is not offered): fra is 10 down.
      ["Extra regions", `${DOWN.repeat(10)} \r`],
      ["GROQ_API_KEY for Groq \\(get one at https://console.groq.com/keys\\)", `${KEY}\r`],
      ["my-api is taken on Fly.io. Another app name\\?", "\r"],
    ]);
    expect(run.unmatched).toEqual([]);
    expect(run.exit, run.output.slice(-2000)).toBe(0);
    expect(run.output).not.toContain(KEY);
    expect(run.output).toContain("▪▪▪▪");
    expect(run.output).toContain("Finished deploying");
    expect(run.output).toMatch(/Live: +https:\/\/my-api-[0-9a-f]{4}\.fly\.dev/);
    expect(run.output).toContain("Happy shipping!");

    const name = /app = "(my-api-[0-9a-f]{4})"/.exec(await fs.readFile(path.join(ws.dir, "fly.toml"), "utf8"))?.[1];
    expect(name).toBeDefined();
    const calls = await ws.calls();
    expect(calls.find((c) => c.argv[0] === "secrets")).toMatchObject({ argv: ["secrets", "import", "--app", name, "--stage"], stdin: `GROQ_API_KEY="${KEY}"\n` });
    expect(run.output).not.toContain("iad · Ashburn");
    expect(run.output).toMatch(/Regions: +iad \(primary\), fra/);
    expect(calls.map((c) => c.argv.join(" "))).toContain(`scale count 1 --region fra --app ${name} --yes`);
    expect(JSON.stringify(calls.map((c) => c.argv))).not.toContain(KEY);
  } finally {
    await app.close();
  }
});
