/**
 * Every command the generated README shows (its fenced `sh` blocks) runs as written from the
 * project's directory, with uv and with pip. Servers are started on a free port, used until
 * /healthz answers (bounded), and stopped; the curl examples run against the README's own
 * production command. Only the commands that need Fly.io itself are left out, by name.
 */
import { execa, type ResultPromise } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { freePort, projectEnv } from "../support/serve.js";
import { TOOLS_BIN } from "../support/tools.js";

/** The commands of the README's `sh` blocks, one per entry, continuation lines joined. */
function readmeCommands(readme: string): string[] {
  const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.flatMap((block) => block.replace(/\\\n/g, "").split("\n").filter((line) => line.trim() !== ""));
}

const needsFly = (command: string) => /^fly |\| fly |\.fly\.dev/.test(command);
const isServer = (command: string) => /\b(fastapi dev|uvicorn) app/.test(command);

interface Server {
  port: number;
  process: ResultPromise;
}

/** Starts a server command on a free port and waits (at most 60 s) until /healthz answers. */
async function start(command: string, cwd: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const child = execa("bash", ["-c", `exec ${command.replace(/--port \d+/, `--port ${port}`)}`], { cwd, env, extendEnv: false, detached: true, reject: false, all: true });
  let output = "";
  child.all?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited:\n${output}`);
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return { port, process: child };
    if (Date.now() > deadline) {
      await stop({ port, process: child });
      throw new Error(`${command} did not answer within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stop(server: Server | undefined) {
  if (!server) return;
  // fastapi dev's reloader runs the server as a child: stop the whole process group.
  try {
    process.kill(-server.process.pid!, "SIGTERM");
  } catch {
    // already gone
  }
  await server.process;
}

/** Runs a curl example as written, against the local server's port, bounded in time. */
function curl(command: string, server: Server, cwd: string, env: Record<string, string>) {
  const local = command.replace(/localhost:\d+/g, `127.0.0.1:${server.port}`).replace(/^curl /, "curl --silent --show-error --fail-with-body --max-time 30 ");
  return execa("bash", ["-e", "-c", local], { cwd, env, extendEnv: false, reject: false, all: true });
}

for (const tool of ["uv", "pip"] as const) {
  describe(`the generated README's commands, with ${tool}`, () => {
    let root: string;
    let dir: string;
    let server: Server | undefined;

    beforeAll(async () => {
      root = await fs.mkdtemp(path.join(os.tmpdir(), `cff-readme-${tool}-`));
      dir = path.join(root, "readme-app");
      const result = await runCli([dir, "--python-tool", tool, "--no-install", "--no-git", "--yes"]);
      if (result.exitCode !== 0) throw new Error(`CLI failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
    });

    afterAll(async () => {
      await stop(server);
      if (root) await fs.remove(root);
    });

    it("each runs as written from the project's directory; only the Fly.io ones are left out", async () => {
      const commands = readmeCommands(await fs.readFile(path.join(dir, "README.md"), "utf8"));
      const env = projectEnv({ PATH: `${TOOLS_BIN}${path.delimiter}${process.env.PATH}` });
      const ran: string[] = [];
      for (const command of commands) {
        if (needsFly(command)) continue;
        if (isServer(command)) {
          await stop(server);
          server = await start(command, dir, env);
        } else if (command.includes("localhost:")) {
          expect(server, `${command} needs a server the README started before it`).toBeDefined();
          const result = await curl(command, server!, dir, env);
          expect(result.exitCode, `${command}\n${result.all}`).toBe(0);
          expect(result.stdout, command).toMatch(/event: done|"finish_reason"/);
        } else {
          const result = await execa("bash", ["-e", "-c", command], { cwd: dir, env, extendEnv: false, reject: false, all: true });
          expect(result.exitCode, `${command}\n${result.all?.slice(-3000)}`).toBe(0);
        }
        ran.push(command);
      }
      // The docs' examples against the same local server: the gateway's stream, the tools' listing.
      const docs = await fs.readdir(path.join(dir, "docs"));
      const examples: string[] = [];
      for (const page of docs) examples.push(...readmeCommands(await fs.readFile(path.join(dir, "docs", page), "utf8")).filter((c) => c.startsWith("curl") && c.includes("localhost:")));
      expect(examples.length).toBeGreaterThanOrEqual(2);
      for (const command of examples) {
        const result = await curl(command, server!, dir, env);
        expect(result.exitCode, `${command}\n${result.all}`).toBe(0);
        expect(result.stdout, command).toMatch(/data: \[DONE\]|"tools"|^\[/);
      }
      await stop(server);
      server = undefined;
      const run = tool === "uv" ? "uv run " : ".venv/bin/";
      expect(ran).toEqual(
        expect.arrayContaining([
          expect.stringMatching(tool === "uv" ? /^uv sync/ : /^python3 -m venv \.venv/),
          expect.stringMatching(/^cp \.env\.example \.env/),
          expect.stringMatching(new RegExp(`^${run.replace(".", "\\.")}fastapi dev app/main\\.py`)),
          expect.stringMatching(new RegExp(`^${run.replace(".", "\\.")}uvicorn app\\.main:app .*--lifespan on`)),
          expect.stringMatching(/^curl -N http:\/\/localhost:8080\/v1\/chat\/stream/),
          expect.stringMatching(tool === "uv" ? /^uv run pytest$/ : /^\.venv\/bin\/pytest$/),
        ]),
      );
      // Left out: exactly the commands that talk to Fly.io.
      expect(commands.filter((c) => !ran.includes(c)).every(needsFly)).toBe(true);
    }, 600_000);
  });
}
