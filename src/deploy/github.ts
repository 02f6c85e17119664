import { execa } from "execa";
import fs from "node:fs/promises";
import path from "node:path";
import { shellPath } from "../escape.js";
import type { Env } from "./flyctl.js";
import { checkSecretValue, type DeployUi } from "./ui.js";

/** The repository secret the generated workflow's deploy job reads (the github-actions feature). */
export const GITHUB_TOKEN_SECRET = "FLY_API_TOKEN";

export interface GithubSecret {
  /**
   * set: gh stored the secret. declined: asked, and the answer was no (or no token).
   * manual: no gh, or no terminal: the command was printed. failed: gh refused; see `reason`.
   */
  status: "set" | "declined" | "manual" | "failed";
  /** The command that sets the secret by hand, from the directory the user is in. */
  command: string;
  reason?: string;
}

/** True when the project has a GitHub workflow that reads the FLY_API_TOKEN secret. */
export async function workflowNeedsToken(dir: string): Promise<boolean> {
  const folder = path.join(dir, ".github", "workflows");
  const files = await fs.readdir(folder).catch(() => [] as string[]);
  for (const file of files.filter((f) => /\.ya?ml$/.test(f))) {
    const text = await fs.readFile(path.join(folder, file), "utf8").catch(() => "");
    if (text.includes(`secrets.${GITHUB_TOKEN_SECRET}`)) return true;
  }
  return false;
}

/**
 * After a deploy: the project's GitHub workflow deploys on every push once the repository has
 * the FLY_API_TOKEN secret. With `gh` installed and a person at the terminal, asks first, then
 * takes a deploy token (masked) and hands it to `gh secret set` on its standard input only.
 * Otherwise prints the command. Never fails the deploy. Undefined: the project has no such workflow.
 */
export async function offerGithubSecret(request: { dir: string; app: string; ui: DeployUi; env: Env }): Promise<GithubSecret | undefined> {
  const { dir, app, ui, env } = request;
  if (!(await workflowNeedsToken(dir))) return undefined;
  const cd = path.relative(process.cwd(), dir);
  const command = `${cd ? `cd ${shellPath(cd)} && ` : ""}fly tokens create deploy | gh secret set ${GITHUB_TOKEN_SECRET}`;
  const manual = `GitHub Actions deploys ${app} on every push to main once the repository has the ${GITHUB_TOKEN_SECRET} secret: ${command}`;
  const run = { cwd: dir, env, extendEnv: false, reject: false } as const;
  const hasGh = async () => (await execa("gh", ["--version"], { ...run, stdin: "ignore" }).catch(() => undefined))?.exitCode === 0;
  if (!ui.interactive || !(await hasGh())) {
    ui.info(manual);
    return { status: "manual", command };
  }
  if (!(await ui.confirm(`Set the ${GITHUB_TOKEN_SECRET} secret of this project's GitHub repository with gh, so pushes to main deploy?`))) {
    ui.info(`Later: ${command}`);
    return { status: "declined", command };
  }
  const token = await ui.askSecret(
    GITHUB_TOKEN_SECRET,
    `A Fly.io deploy token for ${app} (create one in another terminal, in the project: fly tokens create deploy); empty skips`,
    true,
  );
  if (!token || checkSecretValue(token)) {
    ui.info(`No token given. Later: ${command}`);
    return { status: "declined", command };
  }
  const progress = ui.step(`GitHub: gh secret set ${GITHUB_TOKEN_SECRET}`);
  // The token goes to gh on stdin only: never on a command line, never on disk.
  const result = await execa("gh", ["secret", "set", GITHUB_TOKEN_SECRET], { ...run, input: token, all: true });
  if (result.exitCode === 0) {
    progress.done(`${GITHUB_TOKEN_SECRET} is set: pushes to main deploy ${app}`);
    return { status: "set", command };
  }
  const lines = (result.all ?? "").split("\n").map((line) => line.split(token).join("[redacted]").trim()).filter(Boolean);
  const reason = lines.at(-1) ?? `gh exited with ${result.exitCode}`;
  progress.fail(`gh could not set ${GITHUB_TOKEN_SECRET}: ${reason}`);
  ui.info(`The app is deployed. Once the repository is on GitHub (git remote add origin …, git push): ${command}`);
  return { status: "failed", command, reason };
}
