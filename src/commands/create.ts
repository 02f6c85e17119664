import type { ParsedArgs } from "../args.js";
import type { DeploySummary } from "../deploy/index.js";
import { DeployError } from "../deploy/errors.js";
import { extraRegions } from "../deploy/options.js";
import { UserError } from "../errors.js";
import type { StepResult } from "../install.js";
import { GENERATOR } from "../meta.js";
import { optionsFor, type DeployOptions, type Option, type ProjectOptions } from "../options.js";
import { mergeContributions } from "../features/contributions.js";
import { enabledFeatures, nextSteps, planProject } from "../plan.js";
import { jsonReport, planSummary, planTree } from "../report.js";
import { resolve, type Given } from "../resolve.js";
import { modeFor, type Ui } from "../ui.js";
import { checkTarget, writePlan } from "../write.js";
import type { CommandModule, CommandResult } from "./types.js";

/** What a run with `--yes --no-install --no-git` never runs, loaded when it runs (see src/on-demand.ts). */
const onDemand = () => import("../on-demand.js");

export interface CreateRequest {
  options: ProjectOptions;
  deploy: DeployOptions;
  dryRun: boolean;
  force: boolean;
  yes: boolean;
  /** --plan-content: the dry run's document carries each file's content (what add and upgrade read). */
  planContent: boolean;
  /** The deploy flags as given, for the command that runs the deploy again. */
  deployFlags: Partial<DeployOptions>;
}

export const createCommand: CommandModule<CreateRequest> = {
  async resolve(args: ParsedArgs, ui: Ui): Promise<CreateRequest> {
    const dryRun = args.flags.has("dry-run");
    if (args.flags.has("plan-content") && !(dryRun && args.flags.has("json"))) {
      throw new UserError("--plan-content goes with --dry-run --json", "add --dry-run --json", "conflicting_options");
    }
    if (dryRun && args.deploy.deploy) {
      throw new UserError("--dry-run writes nothing, so there is nothing to deploy", "drop --deploy, or drop --dry-run", "conflicting_options");
    }
    // A dry run deploys nothing, so it asks nothing about a deploy.
    const decls = optionsFor("create", ["project", "deploy"]).map((o) => (dryRun && o.scope === "deploy" ? ({ ...o, prompt: undefined } as Option) : o));
    ui.intro(`${GENERATOR.name} ${GENERATOR.version}`);
    const resolved = await resolve(decls, { ...args.given, ...args.deploy } as Given, modeFor(ui, args.flags.has("yes")));
    const { deploy, org, regions, ha, ...options } = resolved;
    return {
      options: options as unknown as ProjectOptions,
      deploy: { deploy, org, regions, ha } as DeployOptions,
      dryRun,
      force: args.flags.has("force"),
      yes: args.flags.has("yes"),
      planContent: args.flags.has("plan-content"),
      deployFlags: args.deploy,
    };
  },

  async run(request: CreateRequest, ui: Ui): Promise<CommandResult> {
    const { options, deploy: deployOptions, dryRun } = request;
    // The databases a deploy would create for the features: those behind a deploy option (--redis) only when given.
    const serviceOptions = { redis: request.deployFlags.redis };
    const needs = Object.values(mergeContributions(enabledFeatures(options)).provisioning).flatMap((step) => (step.service ? [step.service] : []));
    const estimating = dryRun || ui.kind === "json";
    const services = estimating || Object.values(serviceOptions).some(Boolean) ? await import("../deploy/services.js") : undefined;
    // An option no feature uses (--redis with --no-ratelimit) is refused before anything is written.
    const unused = services?.unusedServiceOption(needs, serviceOptions, false);
    if (unused) throw new UserError(unused.reason, unused.hint, "conflicting_options");

    // Extra regions are written into the project's README, and started by the deploy.
    const plan = planProject(options, { regions: extraRegions(deployOptions.regions, options.region), org: deployOptions.org });
    const target = await checkTarget(plan, request.force);

    // What a deploy of this project would make and cost a month (src/deploy/estimate.ts), for --dry-run and --json.
    const flyToml = estimating ? plan.files.find((f) => f.path === "fly.toml")?.content : undefined;
    const extras = flyToml && services ? services.serviceExtras(services.wantedServices(needs, serviceOptions).map((need) => ({ need, mode: "provision" }))) : {};
    const cost = flyToml ? (await import("../deploy/estimate.js")).deployEstimate(flyToml, extraRegions(deployOptions.regions, options.region), request.deployFlags.ha, undefined, extras) : undefined;
    if (dryRun) {
      const report = jsonReport(plan, { dryRun, directory: target.dir, overwritten: target.overwrites, steps: [] });
      if (request.planContent) report.files = plan.files.map((f) => ({ ...f, bytes: Buffer.byteLength(f.content) }));
      return {
        document: { ...report, ...cost },
        exitCode: 0,
        show(ui) {
          ui.info(planTree(plan));
          for (const line of planSummary(plan)) ui.info(line);
          if (target.overwrites.length) ui.info(`would replace: ${target.overwrites.join(", ")}`);
          if (cost) ui.info(`estimated cost once deployed: ${cost.estimate.summary}`);
          ui.info("dry run: nothing was written");
        },
      };
    }

    const deploy = deployOptions.deploy ? await onDemand() : undefined;
    if (deploy) {
      // Fail before writing anything when flyctl or the login is missing.
      await deploy.checkLogin(await deploy.checkFlyctl(process.cwd(), process.env), process.env);
    }

    const writing = ui.step("Writing the project");
    try {
      await writePlan(plan, target);
    } catch (error) {
      writing.fail("nothing was written");
      throw error;
    }
    writing.done(`Wrote ${plan.files.length} files to ${options.directory}`);
    if (target.overwrites.length) ui.info(`replaced: ${target.overwrites.join(", ")}`);

    const steps: StepResult[] = [];
    if (options.install || options.git) {
      const { initGit, installDependencies } = await onDemand();
      const runStep = async (label: string, step: () => Promise<StepResult>) => {
        const progress = ui.step(label);
        const result = await step();
        steps.push(result);
        (result.status === "failed" ? progress.fail : progress.done)(`${result.step}: ${result.note}`);
      };
      if (options.install) await runStep("Installing Python dependencies", () => installDependencies(target.dir, options));
      if (options.git) await runStep("Initialising git", () => initGit(target.dir));
    }

    let deployed: DeploySummary | undefined;
    let failure: DeployError | undefined;
    if (deploy) {
      try {
        deployed = await deploy.deployProject({
          dir: target.dir,
          org: deployOptions.org,
          regions: extraRegions(deployOptions.regions, undefined),
          options,
          yes: request.yes,
          ha: request.deployFlags.ha,
          redis: request.deployFlags.redis,
          env: process.env,
          ui,
          rerun: deploy.rerunCommand(target.dir, request.deployFlags),
        });
      } catch (error) {
        if (!(error instanceof DeployError)) throw error;
        failure = error;
      }
    }

    // Exactly the commands that work now: an install that was skipped or failed is still to do.
    const installed = steps.some((s) => s.step === "install" && s.status === "done");
    const next = nextSteps(options, { installed, deployed: deployed !== undefined });
    const tips = Object.values(mergeContributions(enabledFeatures(options)).tips);
    const failedStep = steps.find((s) => s.status === "failed");
    const error =
      failure ?? (failedStep ? new UserError(`${failedStep.step} failed: ${failedStep.note}`, `the project is written; run the next steps by hand`, `${failedStep.step}_failed`) : undefined);
    const report = jsonReport({ ...plan, nextSteps: next }, { dryRun, directory: target.dir, overwritten: target.overwrites, steps });
    return {
      document: {
        ...report,
        ...cost,
        ok: error === undefined,
        ...(error ? { error: { code: error instanceof DeployError ? "deploy_failed" : error.code, message: error.message, hint: error.hint ?? null } } : {}),
        ...(deployed ? { deploy: deployed } : failure ? { deploy: { ok: false, step: failure.step, error: failure.reason, hint: failure.hint ?? null, output: failure.output } } : {}),
      },
      // A failed install or git step is shown with the next steps, not raised: the project is there.
      exitCode: error ? 1 : 0,
      ...(failure ? { error: failure } : {}),
      show(ui) {
        ui.note("Next steps", [...next, ...(tips.length ? ["", ...tips] : [])]);
        ui.info(`Re-create this project: ${plan.command}`);
        if (deployed && deploy) ui.note("Deployed", deploy.summaryLines(deployed));
        if (!failure) ui.outro("Happy shipping!");
      },
    };
  },
};
