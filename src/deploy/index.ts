import fs from "node:fs/promises";
import path from "node:path";
import { GENERATOR } from "../meta.js";
import type { Feature } from "../features/types.js";
import { checkOption, optionFor, type DeployOptions, type ProjectOptions } from "../options.js";
import { shellPath, shellWord } from "../escape.js";
import { deployEstimate, type CostEstimate } from "./estimate.js";
import type { Env } from "./flyctl.js";
import { offerGithubSecret, type GithubSecret } from "./github.js";
import type { MachinePlan } from "./machines.js";
import { writeAppName, type DeployProject } from "./project.js";
import { secretLine } from "./secrets.js";
import { SERVICES, planServices, serviceName, serviceWork, provisionPostgres, provisionRedis, serviceExtras, wantedServices, type ServiceNeed, type ServiceOutcome, type ServicePlan } from "./services.js";
import { SMOKE_ORIGIN_ENV, SmokeError, smokeTest, type SmokeResult } from "./smoke.js";
import {
  DeployError,
  appStatus,
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
} from "./steps.js";
import type { DeployUi, StepProgress } from "./ui.js";

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
  /** --ha / --no-ha; undefined: fly.toml decides (src/deploy/machines.ts). */
  ha?: boolean;
  /** --redis / --no-redis; undefined: asked in a terminal when rate limits are on and more than one Machine runs. */
  redis?: boolean;
  /** The features a project may have; the generator's own unless a test brings its own. */
  features?: readonly Feature[];
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
  /** What the deploy asked for and why, and the Machines Fly reports by region afterwards. */
  machines: MachinePlan & { running: Record<string, number> };
  /** The monthly cost estimated before deploying. */
  estimate: CostEstimate;
  account: string;
  flyctl: { command: string; version: string };
  secrets: { name: string; source: string }[];
  /** The databases Fly runs for the app: created, reused (found by name), given (a URL from the user) or kept (the app had the secret). */
  provisioning: ServiceOutcome[];
  /**
   * What this deploy gave the app that it lacked (all of it for a new app): the services it
   * provisioned and the secrets it set for the first time, e.g. after `add postgres` or `add auth`.
   */
  added: { services: { kind: ServiceNeed["kind"]; name: string; secret: string }[]; secrets: string[] };
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
      const project = await checkProject(dir, request.options, request.features);
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
  const ctx: StepContext = { fly, rerun: request.rerun };
  const extras = request.regions.filter((region) => region !== project.primaryRegion);
  // An app that is already yours may have Machines: a deploy keeps them, and so does the estimate.
  const existing = pre.ownApp ? (await appStatus(ctx, pre.appName).catch(() => undefined))?.machines : undefined;
  const planned = await deployCost(dir, extras, request.ha, existing);
  const wanted = wantedServices(project.services, { redis: await wantShared(project.services, "redis", request.redis, planned.machines, ui) });
  const services = await planServices(wanted, pre.appName, pre.alreadySet, env, ui.interactive ? ui : undefined);
  for (const plan of services) {
    if (plan.value === undefined) continue;
    secretLine(plan.need.secret, plan.value);
    secrets.push({ name: plan.need.secret, value: plan.value, source: plan.from! });
  }
  fly.redact(secrets.flatMap((s) => (s.value ? [s.value] : [])));
  const { machines, estimate } = await deployCost(dir, extras, request.ha, existing, serviceExtras(services));
  // What the app lacks, said before it is done: what a feature added since the last deploy brings.
  const added = {
    services: services.filter((p) => p.mode === "provision").map((p) => ({ kind: p.need.kind, name: p.name, secret: p.need.secret })),
    secrets: secrets.filter((s) => s.value !== undefined && !pre.alreadySet.has(s.name)).map((s) => s.name),
  };
  if (pre.ownApp && added.services.length + added.secrets.length > 0) {
    const services = wanted.filter((need) => added.services.some((a) => a.kind === need.kind)).map((need) => `${SERVICES[need.kind].label}: ${serviceWork(need, pre.appName)}`);
    ui.info(`New for ${pre.appName} since its last deploy: ${[...services, ...(added.secrets.length ? [`the secret${added.secrets.length > 1 ? "s" : ""} ${added.secrets.join(", ")}`] : [])].join("; ")}`);
  }
  ui.info(`Machines: ${machineCounts(machines)}: ${machines.why}`);
  ui.info(`Estimated cost: ${estimate.summary}`);

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

  // 3. Databases: found by name or created; Postgres attached (it sets its secret), Redis's URL staged below.
  const provisioning = await provisionServices(ctx, services, app, org, project.primaryRegion, secrets, ui);

  // 4. Secrets: staged through stdin, applied by the deploy.
  const imported = await inStep(
    ui.step("Secrets"),
    () => importSecrets(ctx, app, secrets),
    (names) => {
      const kept = secrets.filter((s) => s.source === "already set").map((s) => s.name);
      const parts = [names.length ? `staged ${names.join(", ")}` : "", kept.length ? `already set: ${kept.join(", ")}` : ""].filter(Boolean);
      return parts.join("; ") || `none needed${project.provider ? ` (${project.provider.label})` : ""}`;
    },
  );

  // 5. Deploy on the remote builder, waiting for the release; then the extra regions.
  const building = ui.step(`Deploying ${app} with flyctl (remote builder)`, { streams: true });
  await inStep(building, () => deployApp(ctx, app, machines.ha, building.line), () => `released ${app}`);
  for (const region of extras) {
    await inStep(ui.step(`Adding a machine in ${region}`), () => scaleRegion(ctx, app, region), () => `one machine in ${region}`);
  }

  // 6. Smoke test: /healthz and one real stream.
  const { hostname, running, smoke } = await inStep(
    ui.step("Smoke test: /healthz and one chat stream"),
    async () => {
      const { hostname, machines: running } = await appStatus(ctx, app);
      const origin = env[SMOKE_ORIGIN_ENV] || `https://${hostname}`;
      try {
        return { hostname, running, smoke: await smokeTest(origin, { apiKey: bearerKey(project, secrets) }) };
      } catch (error) {
        if (!(error instanceof SmokeError)) throw error;
        throw new DeployError("smoke", `${app} is deployed, but ${error.message}`, `read the app's logs: fly logs --app ${app}`);
      }
    },
    ({ smoke }) =>
      smoke.stream
        ? `healthz ${smoke.healthz.ms} ms; first event after ${smoke.stream.firstEventMs} ms, then one every ${smoke.stream.medianGapMs} ms (median), done after ${smoke.stream.totalMs} ms`
        : `healthz ${smoke.healthz.ms} ms; stream ${smoke.auth} (export ${project.bearerSecret} to test one)`,
  );

  // 7. GitHub Actions: the secret its deploy job needs (asked first, set with gh; never fails the deploy).
  const github = await offerGithubSecret({ dir, app, ui, env });

  // 8. Summary.
  const url = `https://${hostname}`;
  const cd = path.relative(process.cwd(), dir);
  const inDir = (command: string) => (cd ? `cd ${shellPath(cd)} && ${command}` : command);
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
    machines: { ...machines, running },
    estimate,
    account: pre.account,
    flyctl: { command: fly.bin, version: fly.version },
    secrets: secrets.map(({ name, source }) => ({ name, source: imported.includes(name) ? `staged from ${source}` : source })),
    provisioning,
    // Named after the app as it ended (a new app may have taken another name).
    added: { ...added, services: added.services.map((s) => ({ ...s, name: serviceName(s.kind, app) })) },
    ...(secrets.some((s) => s.source === "generated")
      ? { generatedSecrets: Object.fromEntries(secrets.filter((s) => s.source === "generated").map((s) => [s.name, s.value!])) }
      : {}),
    smoke,
    commands: { redeploy: inDir("fly deploy"), logs: inDir("fly logs"), status: inDir("fly status") },
    ...(github ? { github } : {}),
  };
}

/** The Machines a deploy of `dir` makes and what they (and its databases) cost a month, from its fly.toml. Reads only. */
export async function deployCost(
  dir: string,
  extraRegions: readonly string[],
  ha?: boolean,
  running?: Record<string, number>,
  services?: ReturnType<typeof serviceExtras>,
): Promise<{ machines: MachinePlan; estimate: CostEstimate }> {
  return deployEstimate(await fs.readFile(path.join(dir, "fly.toml"), "utf8"), extraRegions, ha, running, services);
}

/**
 * Whether a service behind a deploy option (--redis) is wanted: as given; else, in a terminal,
 * asked when a feature offers it and more than one Machine will run (one Machine counts alone).
 */
async function wantShared(needs: readonly ServiceNeed[], option: string, given: boolean | undefined, machines: MachinePlan, ui: DeployUi): Promise<boolean> {
  if (given !== undefined) return given;
  if (!ui.interactive || !needs.some((need) => need.option === option)) return false;
  const total = machines.regions.reduce((sum, r) => sum + r.machines, 0);
  return total > 1 && ui.confirm(optionFor(option).prompt!);
}

/** Provisions what the plan says, each as its own step; a URL to stage (Redis's) joins `secrets`. */
async function provisionServices(ctx: StepContext, plans: readonly ServicePlan[], app: string, org: string, region: string | undefined, secrets: SecretValue[], ui: DeployUi): Promise<ServiceOutcome[]> {
  const outcomes: ServiceOutcome[] = [];
  for (const plan of plans) {
    const { need } = plan;
    const name = serviceName(need.kind, app);
    const { label, step } = SERVICES[need.kind];
    if (plan.mode !== "provision") {
      const outcome: ServiceOutcome = { kind: need.kind, secret: need.secret, action: plan.mode };
      ui.step(`${label}`).done(plan.mode === "given" ? `${need.secret} from the ${plan.from}: nothing created` : `${app} already has ${need.secret}: kept`);
      outcomes.push(outcome);
      continue;
    }
    if (!region) throw new DeployError(step, `fly.toml has no primary_region to create ${label} ${name} in`, `set primary_region in fly.toml, then run again: ${ctx.rerun}`);
    const progress = ui.step(`${label} ${name} in ${region}`, { streams: need.kind === "managed-postgres" });
    const note = (o: ServiceOutcome) => `${o.action} ${name}${o.id ? ` (${o.id})` : ""}; ${need.secret} ${need.kind === "managed-postgres" ? "set by fly mpg attach" : "staged with the secrets"}`;
    if (need.kind === "managed-postgres") {
      outcomes.push(await inStep(progress, () => provisionPostgres(ctx, need, app, org, region, progress.line), note));
    } else {
      const { outcome, url } = await inStep(progress, () => provisionRedis(ctx, need, app, org, region), (r) => note(r.outcome));
      secrets.push({ name: need.secret, value: url, source: "provisioned" });
      outcomes.push(outcome);
    }
  }
  return outcomes;
}

/** "2 in iad, 1 in fra" */
export function machineCounts(machines: { regions: { region: string; machines: number }[] }): string {
  return machines.regions.map((r) => `${r.machines} in ${r.region}`).join(", ");
}

/** The summary as lines for a person. */
export function summaryLines(summary: DeploySummary): string[] {
  const [primary, ...extra] = summary.regions;
  return [
    `Live:      ${summary.url}`,
    `API docs:  ${summary.docsUrl}`,
    `Regions:   ${primary ?? "?"} (primary)${extra.length ? `, ${extra.join(", ")}` : ""}`,
    `Machines:  ${Object.entries(summary.machines.running).map(([region, n]) => `${n} in ${region}`).join(", ") || "none reported"}: ${summary.machines.why}`,
    `Cost:      ${summary.estimate.summary}`,
    ...(summary.created || summary.added.services.length + summary.added.secrets.length === 0
      ? []
      : [`New:       ${[...summary.added.services.map((s) => `${SERVICES[s.kind].label} ${s.name}`), ...summary.added.secrets].join(", ")} (not there at the last deploy)`]),
    ...summary.provisioning.map((p) => `${`${SERVICES[p.kind].short}:`.padEnd(11)}${p.action === "given" || p.action === "kept" ? `${p.secret} ${p.action === "given" ? "given by you" : "already set: kept"}` : `${p.name} ${p.action}, ${p.secret} set`}`),
    summary.smoke.stream
      ? `Stream:    first event after ${summary.smoke.stream.firstEventMs} ms, then one every ${summary.smoke.stream.medianGapMs} ms (median), done after ${summary.smoke.stream.totalMs} ms`
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

/** `npx create-fly-fastapi deploy DIR [--org …] [--regions …] [--name …]`: runs the deploy again. */
export function rerunCommand(dir: string, deploy: Partial<DeployOptions>, appName?: string): string {
  const words = ["npx", GENERATOR.name, "deploy"].map(shellWord);
  // The directory as a path no parser reads as an option (./-dash).
  words.push(shellPath(path.relative(process.cwd(), dir) || "."));
  if (deploy.org) words.push("--org", shellWord(deploy.org));
  if (deploy.regions) words.push("--regions", shellWord(deploy.regions));
  if (deploy.ha !== undefined) words.push(deploy.ha ? "--ha" : "--no-ha");
  if (deploy.redis !== undefined) words.push(deploy.redis ? "--redis" : "--no-redis");
  if (appName) words.push("--name", shellWord(appName));
  return words.join(" ");
}
