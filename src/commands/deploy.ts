import path from "node:path";
import type { ParsedArgs } from "../args.js";
import { deployCost, deployProject, machineCounts, rerunCommand, summaryLines } from "../deploy/index.js";
import { extraRegions } from "../deploy/options.js";
import { readProject, readRecordedOptions } from "../deploy/project.js";
import { SERVICES, planServices, serviceExtras, wantedServices } from "../deploy/services.js";
import { UserError } from "../errors.js";
import { GENERATOR } from "../meta.js";
import { flagUsage, optionFor, optionsFor, type DeployOptions } from "../options.js";
import { resolve, type Given } from "../resolve.js";
import { modeFor, type Ui } from "../ui.js";
import type { CommandModule, CommandResult } from "./types.js";

export interface DeployCommandRequest {
  /** Absolute path of the project. */
  dir: string;
  /** --name: deploy as this app (written into fly.toml) instead of fly.toml's. */
  appName: string | undefined;
  options: Pick<DeployOptions, "org" | "regions">;
  primaryRegion: string | undefined;
  /** fly.toml's app, for the dry run's "Would deploy". */
  projectApp: string | undefined;
  /** --dry-run: show the Machines and the monthly cost a deploy would make; run no flyctl. */
  dryRun: boolean;
  yes: boolean;
  /** The deploy flags as given, for the command that runs it again. */
  flags: Partial<DeployOptions>;
}

/** Refuses flags that `deploy` does not take, naming the ones it does (all from the declarations). */
function checkApplicable(args: ParsedArgs): void {
  const usable = `deploy takes a directory, ${optionsFor("deploy")
    .filter((o) => o.key !== "directory")
    .map((o) => flagUsage(o).split(",")[0]!.replace(/ <.*/, ""))
    .join(", ")}`;
  const { features, ...given } = args.given;
  const { deploy, ...deployFlags } = args.deploy;
  // `deploy --deploy` says what the command does anyway; `--no-deploy` contradicts it.
  if (deploy === false) throw new UserError("deploy --no-deploy would deploy nothing", "drop --no-deploy", "conflicting_options");
  const keys = [...Object.keys(given), ...Object.keys(features ?? {}), ...Object.keys(deployFlags)];
  for (const key of keys) {
    const decl = optionFor(key);
    if (decl.commands.includes("deploy")) continue;
    const why = decl.scope === "project" ? "is chosen when a project is created; deploy reads the project's files" : "does not apply to deploy";
    throw new UserError(`--${decl.flag} ${why}`, usable, "not_for_this_command");
  }
  for (const flag of args.flags) {
    if (!optionFor(flag).commands.includes("deploy")) throw new UserError(`--${flag} does not apply to deploy`, usable, "not_for_this_command");
  }
}

/** `create-fly-fastapi deploy [directory]`: deploys an existing generated project. */
export const deployCommand: CommandModule<DeployCommandRequest> = {
  async resolve(args: ParsedArgs, ui: Ui): Promise<DeployCommandRequest> {
    checkApplicable(args);
    const decls = optionsFor("deploy");
    const given = { ...args.given, ...args.deploy } as Given;
    // Bad flags are refused before the project is read, and long before flyctl runs.
    const { directory } = await resolve(decls, given, { kind: "defaults" }, { command: "deploy" });
    const dir = path.resolve(String(directory));
    ui.intro(`${GENERATOR.name} ${GENERATOR.version}: deploy to Fly.io`);
    // Read before anything is asked: a wrong directory or a project without its options stops here.
    const project = await readProject(dir);
    const recorded = await readRecordedOptions(dir);
    // A dry run deploys nothing, so it asks nothing: the recorded org and regions, or the flags.
    const dryRun = args.flags.has("dry-run");
    // The project's primary region is never an extra one; its recorded org and regions are the defaults.
    const resolved = await resolve(decls, given, dryRun ? { kind: "defaults" } : modeFor(ui, args.flags.has("yes")), {
      command: "deploy",
      known: { region: project.primaryRegion },
      recorded: { org: recorded.org, regions: recorded.regions },
    });
    const options = { org: String(resolved.org), regions: String(resolved.regions) };
    const appName = resolved.name === "" ? undefined : String(resolved.name);
    return { dir, appName, options, primaryRegion: project.primaryRegion, projectApp: project.appName, dryRun, yes: args.flags.has("yes"), flags: args.deploy };
  },

  async run(request: DeployCommandRequest, ui: Ui): Promise<CommandResult> {
    const { dir, options } = request;
    if (request.dryRun) return dryRunResult(request);
    const summary = await deployProject({
      dir,
      org: options.org,
      regions: extraRegions(options.regions, request.primaryRegion),
      appName: request.appName,
      yes: request.yes,
      ha: request.flags.ha,
      redis: request.flags.redis,
      env: process.env,
      ui,
      rerun: rerunCommand(dir, { ...request.flags, regions: options.regions || undefined }, request.appName),
    });
    return {
      document: summary,
      exitCode: 0,
      show(ui) {
        ui.note("Deployed", summaryLines(summary));
        ui.outro("Happy shipping!");
      },
    };
  },
};

/** `deploy --dry-run`: the Machines and the monthly cost a deploy would make, from the project's files; flyctl is not run. */
async function dryRunResult(request: DeployCommandRequest): Promise<CommandResult> {
  const { dir, options } = request;
  const app = request.appName ?? request.projectApp ?? null;
  // No flyctl: what is given in the environment, and what the deploy would create (or find by name and reuse).
  const project = await readProject(dir);
  const wanted = wantedServices(project.services, { redis: request.flags.redis });
  const services = await planServices(wanted, app ?? "app", new Set(), process.env);
  const provisioning = services.map((s) =>
    s.mode === "given" ? { kind: s.need.kind, secret: s.need.secret, action: "given" } : { kind: s.need.kind, secret: s.need.secret, name: s.name, action: "create or reuse" },
  );
  const { machines, estimate } = await deployCost(dir, extraRegions(options.regions, request.primaryRegion), request.flags.ha, undefined, serviceExtras(services));
  const document = { ok: true, dryRun: true, directory: dir, app, machines, estimate, provisioning };
  return {
    document,
    exitCode: 0,
    show(ui) {
      ui.info(`Would deploy ${app ?? "(no app name in fly.toml)"} from ${path.relative(process.cwd(), dir) || "."}`);
      ui.info(`Machines:        ${machineCounts(machines)}: ${machines.why}`);
      ui.info(`Estimated cost:  ${estimate.summary}`);
      for (const p of provisioning) ui.info(`${SERVICES[p.kind].label}: ${p.action === "given" ? `${p.secret} from the environment, nothing created` : `would create ${"name" in p ? p.name : ""}, or reuse it when it exists, and set ${p.secret}`}`);
      // A line priced per use (Upstash Redis) has no figure of its own.
      for (const line of estimate.lines) ui.info(`  ${line.what}${line.high === 0 ? "" : `: ${line.low === line.high ? `$${line.high.toFixed(2)}` : `$${line.low.toFixed(2)}–$${line.high.toFixed(2)}`}`}`);
      ui.info("dry run: flyctl was not run");
    },
  };
}
