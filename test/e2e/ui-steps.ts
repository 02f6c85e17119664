/**
 * Helpers for the next-steps tests: read the steps the CLI printed, and run them as a person
 * would paste them (a dev server is started on a free port, checked, and stopped).
 */
import { execa } from "execa";
import path from "node:path";
import { expect } from "vitest";
import { BIN } from "../support/cli.js";
import { freePort, projectEnv } from "../support/serve.js";
import { TOOLS_BIN } from "../support/tools.js";

/** The lines under "Next steps:" of the plain output. */
export function printedSteps(stdout: string): string[] {
  const lines = stdout.split("\n");
  const start = lines.indexOf("Next steps:");
  expect(start, stdout).toBeGreaterThanOrEqual(0);
  const steps: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("  ")) break;
    steps.push(line.trim());
  }
  return steps;
}

/** Starts a printed dev-server command on a free port, checks it serves the API and the chat page, stops it. */
async function serveBriefly(command: string, cwd: string, env: Record<string, string>) {
  const port = await freePort();
  const server = execa("bash", ["-c", `exec ${command.replace(/--port \d+/, `--port ${port}`)}`], {
    cwd,
    env,
    extendEnv: false,
    detached: true,
    reject: false,
    all: true,
  });
  let output = "";
  server.all?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`${command} exited:\n${output}`);
      if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) break;
      if (Date.now() > deadline) throw new Error(`${command} did not answer within 60 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="prompt"');
  } finally {
    // The reloader runs the server as a child: stop the whole process group.
    try {
      process.kill(-server.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    await server;
  }
}

/** Runs every printed step in order, as a person would paste them, from `cwd`. */
export async function runPrinted(steps: string[], cwd: string, deployEnv: Record<string, string>) {
  const env = projectEnv({ PATH: `${TOOLS_BIN}${path.delimiter}${process.env.PATH}`, CI: "true" });
  let here = cwd;
  for (const step of steps) {
    if (step.startsWith("cd ")) {
      here = path.resolve(here, step.slice(3));
    } else if (/--reload|fastapi dev/.test(step)) {
      await serveBriefly(step, here, env);
    } else if (step.startsWith("npx create-fly-fastapi ")) {
      // The published command is this repository's bin; flyctl is the fake one, the app the fake deployed one.
      const result = await execa(process.execPath, [BIN, ...step.split(" ").slice(2)], { cwd: here, env: deployEnv, extendEnv: false, reject: false });
      expect(result.exitCode, `${step}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/Live: +https:\/\//);
    } else {
      const result = await execa("bash", ["-e", "-c", step], { cwd: here, env, extendEnv: false, reject: false, all: true });
      expect(result.exitCode, `${step}\n${result.all?.slice(-2000)}`).toBe(0);
    }
  }
}

