import * as p from "@clack/prompts";
import path from "node:path";
import type { ParsedArgs } from "../args.js";
import { UserError } from "../errors.js";
import { GENERATOR } from "../meta.js";
import { checkOption, optionFor, type DeployOptions, type ProjectOptions } from "../options.js";
import { shellWord } from "../escape.js";
import { plainText } from "../text.js";
import type { Env } from "./flyctl.js";
import { offerGithubSecret, type GithubSecret } from "./github.js";
import { extraRegions, resolveDeployOptions } from "./options.js";
import { readProject, writeAppName, type DeployProject } from "./project.js";
import { askDeployWithClack } from "./prompts.js";
import { SMOKE_ORIGIN_ENV, SmokeError, smokeTest, type SmokeResult } from "./smoke.js";
import {
  DeployError,
  appHostname,
  checkFlyctl,
  checkLogin,
  checkProject,
  collectSecrets,
  createApp,
  deployApp,
  ensureUvLock,
  findOwnApp,
  importSecrets,
  scaleRegion,
  secretsAlreadySet,
  suggestNames,
  type SecretValue,
  type StepContext,
  type StepName,
} from "./steps.js";
import { clackUi, plainUi, type DeployUi, type StepProgress } from "./ui.js";

export { DeployError, smokeTest, SmokeError, SMOKE_ORIGIN_ENV, type SmokeResult };

export interface DeployRequest {
  /** Absolute path of the project. */
  dir: string;
  org: string;
  /** Regions besides the primary one, each to get one machine (the primary is skipped if listed). */
  regions: string[];
  /** --name: the app name to use (written into fly.toml) instead of fly.toml's. */
  appName?: string;
  /** The options the project was just created with; without them they are read from its files. */
  options?: ProjectOptions;
  /** --yes: run `uv lock` without asking. */
  yes: boolean;
  env: Env;
  ui: DeployUi;
  /** The command that runs the deploy again, shown in hints. */
  rerun: string;
}

export interface DeploySummary {
  ok: true;
  directory: string;
  app: string;
  org: string;
  /** False when the app already existed. */
  created: boolean;
  url: string;
  docsUrl: string;
  hostname: string;
  primaryRegion: string | null;
  regions: string[];
  account: string;
  flyctl: { command: string; version: string };
  secrets: { name: string; source: string }[];
  /** Secrets this deploy generated (an API key): shown here once, stored nowhere else. */
  generatedSecrets?: Record<string, string>;
  smoke: SmokeResult;
  commands: { redeploy: string; logs: string; status: string };
  /** The FLY_API_TOKEN secret of the project's GitHub workflow, when it has one. */
  github?: GithubSecret;
}

const MAX_NAME_ATTEMPTS = 5;

/** The key the smoke test sends: the first of the bearer secret, null when the app has one this run does not know. */
function bearerKey(project: DeployProject, secrets: SecretValue[]): string | null | undefined {
  if (!project.bearerSecret) return undefined;
  const value = secrets.find((s) => s.name === project.bearerSecret)?.value;
  return value ? (value.split(",").map((k) => k.trim()).find(Boolean) ?? null) : null;
}

async function inStep<T>(progress: StepProgress, work: () => Promise<T>, note: (result: T) => string): Promise<T> {
  try {
    const result = await work();
    progress.done(note(result));
    return result;
  } catch (error) {
    progress.fail(error instanceof DeployError ? error.reason : "failed");
    throw error;
  }
}

/**
 * Preflight → app → secrets → deploy → regions → smoke test. Each step that fails throws a
 * DeployError naming it; nothing in the project changes except what the user agreed to
 * (`uv lock`, a new app name in fly.toml). Running it again continues where it stopped.
 */
export async function deployProject(request: DeployRequest): Promise<DeploySummary> {
  const { dir, env, ui } = request;

  // 1. Preflight: reads only.
  const pre = await inStep(
    ui.step("Preflight: flyctl, login, project"),
    async () => {
      const fly = await checkFlyctl(dir, env);
      const account = await checkLogin(fly, env);
      const project = await checkProject(dir, request.options);
      const appName = request.appName ?? project.appName;
      if (!appName) {
        throw new DeployError("preflight", "fly.toml has no app name", `pass one (it is written into fly.toml): ${request.rerun} --name my-app`);
      }
      const ownApp = await findOwnApp(fly, appName);
      const alreadySet = ownApp ? await secretsAlreadySet(fly, appName) : new Set<string>();
      return { fly, account, project, appName, ownApp, alreadySet };
    },
    (r) => `flyctl ${r.fly.version}, ${r.account}; app ${r.appName} ${r.ownApp ? `exists in ${r.ownApp.org}` : "is new"}`,
  );
  const { fly, project } = pre;
  const lockNote = await ensureUvLock(project, ui, request.yes, env);
  if (lockNote) ui.info(lockNote);
  const secrets = await collectSecrets(project, pre.alreadySet, ui, env);
  fly.redact(secrets.flatMap((s) => (s.value ? [s.value] : [])));
  const ctx: StepContext = { fly, rerun: request.rerun };

  // 2. The app: kept when it is the user's, created otherwise.
  let app = pre.appName;
  let org = pre.ownApp?.org ?? request.org;
  let created = false;
  if (pre.ownApp) {
    ui.step(`App ${app}`).done(`${app} already exists in ${org}: kept`);
  } else {
    for (let attempt = 1; ; attempt++) {
      const outcome = await inStep(ui.step(`Creating app ${app} in ${org}`), () => createApp(ctx, app, org), (o) => (o === "created" ? `created ${app}` : `${app} is taken`));
      if (outcome === "created") {
        created = true;
        break;
      }
      const suggestions = suggestNames(app);
      if (!ui.interactive || attempt >= MAX_NAME_ATTEMPTS) {
        throw new DeployError(
          "app",
          `the app name ${app} is taken by another Fly.io user`,
          `choose another, e.g. ${suggestions.join(" or ")}: ${request.rerun} --name ${suggestions[0]}`,
        );
      }
      const validate = (name: string) => checkOption(optionFor("name"), name, {});
      app = await ui.askAppName(`${app} is taken on Fly.io. Another app name?`, suggestions[0]!, validate);
      const own = await findOwnApp(fly, app);
      if (own) {
        org = own.org;
        break;
      }
    }
  }
  if (app !== project.appName) {
    await writeAppName(dir, app);
    ui.info(`fly.toml: app = "${app}"`);
  }

  // 3. Secrets: staged through stdin, applied by the deploy.
  const imported = await inStep(
    ui.step("Secrets"),
    () => importSecrets(ctx, app, secrets),
    (names) => {
      const kept = secrets.filter((s) => s.source === "already set").map((s) => s.name);
      const parts = [names.length ? `staged ${names.join(", ")}` : "", kept.length ? `already set: ${kept.join(", ")}` : ""].filter(Boolean);
      return parts.join("; ") || `none needed${project.provider ? ` (${project.provider.label})` : ""}`;
    },
  );

  // 4. Deploy on the remote builder, waiting for the release; then the extra regions.
  const building = ui.step(`Deploying ${app} with flyctl (remote builder)`, { streams: true });
  await inStep(building, () => deployApp(ctx, app, building.line), () => `released ${app}`);
  const extras = request.regions.filter((region) => region !== project.primaryRegion);
  for (const region of extras) {
    await inStep(ui.step(`Adding a machine in ${region}`), () => scaleRegion(ctx, app, region), () => `one machine in ${region}`);
  }

  // 5. Smoke test: /healthz and one real stream.
  const { hostname, smoke } = await inStep(
    ui.step("Smoke test: /healthz and one chat stream"),
    async () => {
      const hostname = await appHostname(ctx, app);
      const origin = env[SMOKE_ORIGIN_ENV] || `https://${hostname}`;
      try {
        return { hostname, smoke: await smokeTest(origin, { apiKey: bearerKey(project, secrets) }) };
      } catch (error) {
        if (!(error instanceof SmokeError)) throw error;
        throw new DeployError("smoke", `${app} is deployed, but ${error.message}`, `read the app's logs: fly logs --app ${app}`);
      }
    },
    ({ smoke }) =>
      smoke.stream
        ? `healthz ${smoke.healthz.ms} ms; first event after ${smoke.stream.firstEventMs} ms, done after ${smoke.stream.totalMs} ms`
        : `healthz ${smoke.healthz.ms} ms; stream ${smoke.auth} (export ${project.bearerSecret} to test one)`,
  );

  // 6. GitHub Actions: the secret its deploy job needs (asked first, set with gh; never fails the deploy).
  const github = await offerGithubSecret({ dir, app, ui, env });

  // 7. Summary.
  const url = `https://${hostname}`;
  const cd = path.relative(process.cwd(), dir);
  const inDir = (command: string) => (cd ? `cd ${shellWord(cd)} && ${command}` : command);
  return {
    ok: true,
    directory: dir,
    app,
    org,
    created,
    url,
    docsUrl: `${url}/docs`,
    hostname,
    primaryRegion: project.primaryRegion ?? null,
    regions: [...(project.primaryRegion ? [project.primaryRegion] : []), ...extras],
    account: pre.account,
    flyctl: { command: fly.bin, version: fly.version },
    secrets: secrets.map(({ name, source }) => ({ name, source: imported.includes(name) ? `staged from ${source}` : source })),
    ...(secrets.some((s) => s.source === "generated")
      ? { generatedSecrets: Object.fromEntries(secrets.filter((s) => s.source === "generated").map((s) => [s.name, s.value!])) }
      : {}),
    smoke,
    commands: { redeploy: inDir("fly deploy"), logs: inDir("fly logs"), status: inDir("fly status") },
    ...(github ? { github } : {}),
  };
}

/** The summary as lines for a person. */
export function summaryLines(summary: DeploySummary): string[] {
  const [primary, ...extra] = summary.regions;
  return [
    `Live:      ${summary.url}`,
    `API docs:  ${summary.docsUrl}`,
    `Regions:   ${primary ?? "?"} (primary)${extra.length ? `, ${extra.join(", ")}` : ""}`,
    summary.smoke.stream
      ? `Stream:    first event after ${summary.smoke.stream.firstEventMs} ms, done after ${summary.smoke.stream.totalMs} ms`
      : `Stream:    not tested: ${summary.smoke.auth} (the key is not in this environment)`,
    ...Object.entries(summary.generatedSecrets ?? {}).map(
      ([name, value]) => `${name}:  ${value}\n           generated and set as a Fly secret; shown this once: keep it (clients send it as Authorization: Bearer)`,
    ),
    `Redeploy:  ${summary.commands.redeploy}`,
    `Logs:      ${summary.commands.logs}`,
    ...(summary.github
      ? [summary.github.status === "set" ? "GitHub:    FLY_API_TOKEN is set: every push to main deploys" : `GitHub:    to deploy on every push to main: ${summary.github.command}`]
      : []),
  ];
}

/** The --json document of a failed deploy. */
export function failureDocument(error: DeployError) {
  return { ok: false, step: error.step as StepName, error: error.reason, hint: error.hint ?? null, output: error.output };
}

/** flyctl's own lines of a failure, printed just before the `error:` line. */
export function printFailureOutput(error: unknown): void {
  if (error instanceof DeployError && error.output.length > 0) {
    process.stderr.write(`${error.output.map((line) => `  flyctl │ ${plainText(line)}`).join("\n")}\n`);
  }
}

/** `npx create-fly-fastapi deploy DIR [--org …] [--regions …] [--name …]`: runs the deploy again. */
export function rerunCommand(dir: string, deploy: Partial<DeployOptions>, appName?: string): string {
  const words = ["npx", GENERATOR.name, "deploy", path.relative(process.cwd(), dir) || "."];
  if (deploy.org) words.push("--org", deploy.org);
  if (deploy.regions) words.push("--regions", deploy.regions);
  if (appName) words.push("--name", appName);
  return words.map(shellWord).join(" ");
}

const DEPLOY_PROJECT_OPTIONS = new Set(["directory", "name"]);
const DEPLOY_COMMAND_FLAGS = new Set(["yes", "json", "help", "version"]);

/** `create-fly-fastapi deploy [directory]`: deploys an existing generated project. */
export async function deployCommand(args: ParsedArgs, interactive: boolean, env: Env = process.env): Promise<number> {
  const usable = "deploy takes a directory, --name, --org, --regions, --yes and --json";
  for (const key of Object.keys(args.given)) {
    if (!DEPLOY_PROJECT_OPTIONS.has(key)) throw new UserError(`--${optionFor(key as keyof ProjectOptions).flag} is chosen when a project is created; deploy reads the project's files`, usable);
  }
  for (const flag of args.flags) {
    if (!DEPLOY_COMMAND_FLAGS.has(flag)) throw new UserError(`--${flag} does not apply to deploy`, usable);
  }
  if (args.given.name !== undefined) {
    const error = checkOption(optionFor("name"), args.given.name, {});
    if (error) throw new UserError(error);
  }
  const json = args.flags.has("json");
  const dir = path.resolve(args.given.directory ?? ".");
  const say = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const ui = interactive ? clackUi() : plainUi(say);

  if (interactive) p.intro(`${GENERATOR.name} ${GENERATOR.version}: deploy to Fly.io`);
  // In a terminal the extra regions are asked as `create --deploy` asks them, without the
  // project's primary region; reading the project first refuses a wrong directory before that.
  const primary = interactive ? (await readProject(dir)).primaryRegion : undefined;
  const options = await resolveDeployOptions({ ...args.deploy, deploy: true }, interactive ? askDeployWithClack(primary) : undefined);
  let summary: DeploySummary;
  try {
    summary = await deployProject({
      dir,
      org: options.org,
      regions: extraRegions(options.regions, primary),
      appName: args.given.name,
      yes: args.flags.has("yes"),
      env,
      ui,
      rerun: rerunCommand(dir, { ...args.deploy, regions: options.regions || undefined }, args.given.name),
    });
  } catch (error) {
    if (json && error instanceof DeployError) console.log(JSON.stringify(failureDocument(error), null, 2));
    printFailureOutput(error);
    throw error;
  }
  if (json) {
    console.log(JSON.stringify(summary, null, 2));
  } else if (interactive) {
    p.note(summaryLines(summary).join("\n"), "Deployed");
    p.outro("Happy shipping!");
  } else {
    for (const line of ["", ...summaryLines(summary)]) say(line);
  }
  return 0;
}
