/**
 * The databases Fly runs beside the app (a feature's `provisioning` step with a `service`):
 * Managed Postgres, attached with `fly mpg attach`, and Upstash Redis, whose URL goes through
 * `secrets import` on stdin. Each is found by name before anything is created, so a re-run
 * reuses what the first run made. Every flag and output parsed here is read from superfly/flyctl
 * (internal/command/mpg/, internal/command/redis/); test/fixtures/fake-flyctl/ answers the same.
 */
import type { ManagedServiceKind } from "../features/types.js";
import { DeployError, type StepName } from "./errors.js";
import type { Env, FlyctlResult } from "./flyctl.js";
import type { StepContext } from "./steps.js";
import { checkSecretValue } from "./ui.js";

/** A service the project's features need on Fly. */
export interface ServiceNeed {
  kind: ManagedServiceKind;
  /** The secret that holds its URL. */
  secret: string;
  /** The deploy option that asks for it; absent: always. */
  option?: string;
}

/**
 * What the deploy did about a service:
 *   created: made now;  reused: found by name, made by an earlier run;
 *   given:   its URL came from the environment (or a prompt), nothing was created;
 *   kept:    the app already has the secret, nothing was looked up or changed.
 */
export type ServiceAction = "created" | "reused" | "given" | "kept";

export interface ServiceOutcome {
  kind: ManagedServiceKind;
  /** The cluster's or database's name on Fly (absent when the URL was given). */
  name?: string;
  /** The Managed Postgres cluster's id. */
  id?: string;
  secret: string;
  action: ServiceAction;
}

/** How a service is named, created and priced; the plan is the one flyctl itself defaults to. */
export const SERVICES: Record<ManagedServiceKind, { step: StepName; label: string; short: string; suffix: string }> = {
  // internal/command/mpg/create.go names a cluster "<app>-db" when none is given.
  "managed-postgres": { step: "postgres", label: "Managed Postgres", short: "Postgres", suffix: "-db" },
  "upstash-redis": { step: "redis", label: "Upstash Redis", short: "Redis", suffix: "-redis" },
};

/** internal/command/mpg/create.go: without --plan and a terminal, flyctl takes "basic"; --volume-size defaults to 10. */
export const POSTGRES_PLAN = { plan: "basic", label: "Basic", storageGb: 10 } as const;

export const serviceName = (kind: ManagedServiceKind, app: string) => `${app.slice(0, 63 - SERVICES[kind].suffix.length)}${SERVICES[kind].suffix}`;

/** What a deploy does for a service the app lacks, in words (the add summary and the deploy's announcement say it alike). */
export function serviceWork(need: ServiceNeed, app: string): string {
  const name = serviceName(need.kind, app);
  return need.kind === "managed-postgres"
    ? `creates the ${SERVICES[need.kind].label} cluster ${name} (or reuses it when it exists) and attaches it with fly mpg attach, which sets ${need.secret}`
    : `creates the ${SERVICES[need.kind].label} ${name} (or reuses it when it exists) and sets ${need.secret} to its URL`;
}

/**
 * A service option given on for a project none of whose features offers it (nothing would use it): what to say.
 * `existing`: the project is there already, so the feature can be added to it.
 */
export function unusedServiceOption(needs: readonly ServiceNeed[], options: Record<string, boolean | undefined>, existing = true): { reason: string; hint: string } | undefined {
  const option = Object.entries(options).find(([option, on]) => on && !needs.some((need) => need.option === option))?.[0];
  if (option === undefined) return undefined;
  const redis = existing ? ", or turn the rate limits (which use Redis) on first: create-fly-fastapi add ratelimit" : " (the rate limits use Redis: a project created with --ratelimit)";
  return { reason: `--${option}: no feature of this project uses it`, hint: `drop --${option}${option === "redis" ? redis : ""}` };
}

/** The services a deploy provisions: those always needed, and those whose option is on; an unused option is refused. */
export function wantedServices(needs: readonly ServiceNeed[], options: Record<string, boolean | undefined>): ServiceNeed[] {
  const unused = unusedServiceOption(needs, options);
  if (unused) throw new DeployError("preflight", unused.reason, unused.hint);
  return needs.filter((need) => !need.option || options[need.option] === true);
}

/** The URL the user gives in the service's variable, checked before anything changed. */
export function givenUrl(need: ServiceNeed, env: Env): string | undefined {
  const value = env[need.secret];
  if (!value) return undefined;
  const problem = checkSecretValue(value);
  if (problem) throw new DeployError("preflight", `${need.secret} in the environment is not usable: ${problem}`, `export ${need.secret}=<url> on one line`);
  return value;
}

function failed(step: StepName, what: string, result: FlyctlResult, hint: string): DeployError {
  return new DeployError(step, `${what} (flyctl exited with ${result.exitCode})`, hint, result.errorLines);
}

/** The cells of one row of flyctl's tables (render.Table: tablewriter, no outer borders, "│" between columns). */
function cells(line: string): string[] {
  return line.split(/[│|]/).map((cell) => cell.trim());
}

// ── Managed Postgres ──────────────────────────────────────────────────────

interface ListedCluster {
  id?: string;
  name?: string;
  status?: string;
}

/**
 * The org's cluster named `name`. internal/command/mpg/list.go prints JSON (uiex ManagedCluster:
 * id, name, region, status...) only when there is a cluster; with none it prints a sentence, even with --json.
 */
async function findCluster(ctx: StepContext, org: string, name: string): Promise<ListedCluster | undefined> {
  const result = await ctx.fly.run(["mpg", "list", "--org", org, "--json"]);
  if (!result.ok) throw failed("postgres", `could not list the Managed Postgres clusters of ${org}`, result, `fix the cause above, then run again: ${ctx.rerun}`);
  const text = result.stdout.trim();
  if (!text.startsWith("[")) return undefined;
  let clusters: ListedCluster[];
  try {
    clusters = JSON.parse(text) as ListedCluster[];
  } catch {
    throw new DeployError("postgres", "`flyctl mpg list --json` printed something other than JSON", "update flyctl: curl -L https://fly.io/install.sh | sh", text.split("\n").slice(0, 5));
  }
  return clusters.find((cluster) => cluster.name === name && cluster.status !== "deleted");
}

/**
 * internal/command/mpg/create.go and v2/run_create.go: --name, --org, --region (asked when
 * missing, so always given), --plan; it waits until the cluster is ready and prints "  ID: <id>",
 * then the connection string, which is never shown.
 */
async function createCluster(ctx: StepContext, org: string, name: string, region: string, onLine: (line: string) => void): Promise<string> {
  const args = ["mpg", "create", "--name", name, "--org", org, "--region", region, "--plan", POSTGRES_PLAN.plan, "--volume-size", String(POSTGRES_PLAN.storageGb)];
  // Its progress is shown, except blank lines and the connection string, which holds the password.
  const result = await ctx.fly.run(args, { onLine: (line) => (line.trim() === "" || /connection string|:\/\//i.test(line) ? undefined : onLine(line)) });
  if (!result.ok) throw failed("postgres", `could not create the Managed Postgres cluster ${name} in ${region}`, result, `fix the cause above, then run again: ${ctx.rerun}`);
  const id = /^\s*ID:\s*(\S+)/m.exec(result.stdout)?.[1];
  if (!id) throw new DeployError("postgres", `\`flyctl mpg create\` did not print the id of ${name}`, `find it with: fly mpg list --org ${org}; then run again: ${ctx.rerun}`);
  return id;
}

/**
 * internal/command/mpg/attach.go and v2/run_attach.go: `attach <CLUSTER ID> --app`, and
 * --variable-name for another name than DATABASE_URL. Without a terminal it takes the cluster's
 * default user and database, sets the secret on the app and prints it (never shown); it refuses
 * an app that has the variable already, which the caller has checked.
 */
async function attachCluster(ctx: StepContext, id: string, app: string, secret: string): Promise<void> {
  const args = ["mpg", "attach", id, "--app", app, ...(secret === "DATABASE_URL" ? [] : ["--variable-name", secret])];
  const result = await ctx.fly.run(args);
  if (!result.ok) throw failed("postgres", `could not attach the Managed Postgres cluster ${id} to ${app}`, result, `fix the cause above, then run again: ${ctx.rerun}`);
}

/** A Managed Postgres cluster for `app`: the one named <app>-db when it exists, else a new one; attached. */
export async function provisionPostgres(ctx: StepContext, need: ServiceNeed, app: string, org: string, region: string, onLine: (line: string) => void): Promise<ServiceOutcome> {
  const name = serviceName(need.kind, app);
  const found = await findCluster(ctx, org, name);
  const id = found?.id ?? (await createCluster(ctx, org, name, region, onLine));
  await attachCluster(ctx, id, app, need.secret);
  return { kind: need.kind, name, id, secret: need.secret, action: found ? "reused" : "created" };
}

// ── Upstash Redis ─────────────────────────────────────────────────────────

/** internal/command/redis/list.go: a table (no --json) whose first column is the name. */
async function redisExists(ctx: StepContext, org: string, name: string): Promise<boolean> {
  const result = await ctx.fly.run(["redis", "list", "--org", org]);
  if (!result.ok) throw failed("redis", `could not list the Upstash Redis databases of ${org}`, result, `fix the cause above, then run again: ${ctx.rerun}`);
  return result.stdout.split("\n").some((line) => cells(line)[0] === name);
}

/**
 * internal/command/redis/create.go: without a terminal every question needs its flag: --name,
 * --org, --region, --no-replicas, an eviction choice (rate-limit counters must not be evicted)
 * and --enable-prodpack. The plan is pay-as-you-go, flyctl's default.
 */
async function createRedis(ctx: StepContext, org: string, name: string, region: string): Promise<void> {
  const args = ["redis", "create", "--name", name, "--org", org, "--region", region, "--no-replicas", "--disable-eviction", "--enable-prodpack=false"];
  const result = await ctx.fly.run(args);
  if (!result.ok) throw failed("redis", `could not create the Upstash Redis ${name} in ${region}`, result, `fix the cause above, then run again: ${ctx.rerun}`);
}

/** internal/command/redis/status.go: a vertical table whose "Private URL" row holds the redis:// URL with its password. */
async function redisUrl(ctx: StepContext, name: string): Promise<string> {
  const result = await ctx.fly.run(["redis", "status", name]);
  if (!result.ok) throw failed("redis", `could not read the status of the Upstash Redis ${name}`, result, `fix the cause above, then run again: ${ctx.rerun}`);
  const row = result.stdout.split("\n").map(cells).find((row) => row[0]?.toLowerCase() === "private url");
  const url = row?.[1];
  if (!url || !/^rediss?:\/\//.test(url)) throw new DeployError("redis", `\`flyctl redis status ${name}\` showed no redis:// URL`, `see: fly redis status ${name}`);
  return url;
}

/** An Upstash Redis for `app`: the one named <app>-redis when it exists, else a new one; its URL, to set as a secret. */
export async function provisionRedis(ctx: StepContext, need: ServiceNeed, app: string, org: string, region: string): Promise<{ outcome: ServiceOutcome; url: string }> {
  const name = serviceName(need.kind, app);
  const found = await redisExists(ctx, org, name);
  if (!found) await createRedis(ctx, org, name, region);
  const url = await redisUrl(ctx, name);
  ctx.fly.redact([url]);
  return { outcome: { kind: need.kind, name, secret: need.secret, action: found ? "reused" : "created" }, url };
}

// ── The plan: decided before anything changes ───────────────────────────

/** What the deploy will do about one service: take the given URL, keep the app's secret, or provision. */
export interface ServicePlan {
  need: ServiceNeed;
  /** Its name on Fly, <app>-db or <app>-redis. */
  name: string;
  mode: "given" | "kept" | "provision";
  /** The given URL (mode "given"), set through `secrets import` on stdin. */
  value?: string;
  /** Where a given URL came from. */
  from?: "environment" | "prompt";
}

/**
 * For each service: a URL in the environment wins; else a secret the app has is kept; else, in a
 * terminal, Postgres may be the user's own (pasted, masked); else it is provisioned.
 */
export async function planServices(
  needs: readonly ServiceNeed[],
  app: string,
  alreadySet: ReadonlySet<string>,
  env: Env,
  ask?: { confirm(message: string): Promise<boolean>; askSecret(name: string, message: string, optional: boolean): Promise<string> },
): Promise<ServicePlan[]> {
  const plans: ServicePlan[] = [];
  for (const need of needs) {
    const name = serviceName(need.kind, app);
    const given = givenUrl(need, env);
    if (given) plans.push({ need, name, mode: "given", value: given, from: "environment" });
    else if (alreadySet.has(need.secret)) plans.push({ need, name, mode: "kept" });
    else if (ask && need.kind === "managed-postgres" && !(await ask.confirm(`Use a ${SERVICES[need.kind].label} cluster ${name} for ${need.secret} (made now if missing: ${POSTGRES_PLAN.label}, ${POSTGRES_PLAN.storageGb} GB)? No: paste your own URL`))) {
      const value = await ask.askSecret(need.secret, `${need.secret}: the postgres:// URL of your database`, false);
      plans.push({ need, name, mode: "given", value, from: "prompt" });
    } else plans.push({ need, name, mode: "provision" });
  }
  return plans;
}

/** What the services add to the monthly estimate: those Fly runs for the app, not URLs the user gave. */
export function serviceExtras(plans: readonly { need: ServiceNeed; mode: string }[]): { postgres?: { plan: string; storageGb: number }; redis?: boolean } {
  const runs = (kind: ManagedServiceKind) => plans.some((p) => p.need.kind === kind && p.mode !== "given");
  return {
    ...(runs("managed-postgres") ? { postgres: { plan: POSTGRES_PLAN.label, storageGb: POSTGRES_PLAN.storageGb } } : {}),
    ...(runs("upstash-redis") ? { redis: true } : {}),
  };
}
