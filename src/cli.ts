import { parseArgs } from "./args.js";
import type { DeployError, DeploySummary } from "./deploy/index.js";
import { checkDeployFlags, extraRegions, resolveDeployOptions } from "./deploy/options.js";
import { UserError } from "./errors.js";
import type { StepResult } from "./install.js";
import { GENERATOR } from "./meta.js";
import { nextSteps, PORT, planProject } from "./plan.js";
import { jsonReport, planSummary, planTree } from "./report.js";
import { resolveOptions, type Mode } from "./resolve.js";
import { plainText } from "./text.js";
import { checkTarget, writePlan } from "./write.js";

/** What `--yes --no-install --no-git` never runs, loaded when it runs (see src/on-demand.ts). */
const onDemand = () => import("./on-demand.js");

/** A person can answer questions: both ends are terminals and this is not CI. */
export function canAsk(env = process.env): boolean {
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "0" && env.CI.toLowerCase() !== "false";
  return Boolean(process.stdin.isTTY && process.stdout.isTTY && !ci);
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.flags.has("help")) {
    const { helpText } = await onDemand();
    console.log(helpText());
    return 0;
  }
  if (args.flags.has("version")) {
    console.log(GENERATOR.version);
    return 0;
  }
  if (args.command === "deploy") {
    const { deployCommand } = await onDemand();
    return deployCommand(args, canAsk() && !args.flags.has("yes") && !args.flags.has("json"));
  }

  const json = args.flags.has("json");
  const dryRun = args.flags.has("dry-run");
  checkDeployFlags(args.deploy);
  if (dryRun && args.deploy.deploy) throw new UserError("--dry-run writes nothing, so there is nothing to deploy", "drop --deploy, or drop --dry-run");
  // canAsk() last: with --yes or --json it would set up process.stdin for nothing.
  const interactive = !args.flags.has("yes") && !json && canAsk();
  // The questions, and the spinners and notes around them.
  const prompts = interactive ? await onDemand() : undefined;
  const p = prompts?.clack;
  const mode: Mode = prompts ? { kind: "ask", ask: prompts.askWithClack } : args.flags.has("yes") ? { kind: "defaults" } : { kind: "flags-only" };
  // In --json mode stdout carries the document only; everything else goes to stderr. Plain
  // output never carries escape codes, whatever a child process (uv, pip, flyctl) printed.
  const say = (line: string) => (json ? process.stderr : process.stdout).write(`${plainText(line)}\n`);

  p?.intro(`${GENERATOR.name} ${GENERATOR.version}`);
  const options = await resolveOptions(args.given, mode);
  const deployOptions = await resolveDeployOptions(args.deploy, prompts && !dryRun ? prompts.askDeployWithClack(options.region) : undefined);
  // Extra regions are written into the project's README, and started by the deploy.
  const plan = planProject(options, { regions: extraRegions(deployOptions.regions, options.region) });
  const target = await checkTarget(plan, args.flags.has("force"));

  // What a deploy of this project would make and cost a month (src/deploy/estimate.ts), for --dry-run and --json.
  const flyToml = dryRun || json ? plan.files.find((f) => f.path === "fly.toml")?.content : undefined;
  const cost = flyToml ? (await import("./deploy/estimate.js")).deployEstimate(flyToml, extraRegions(deployOptions.regions, options.region), args.deploy.ha) : undefined;
  if (dryRun) {
    if (json) {
      console.log(JSON.stringify({ ...jsonReport(plan, { dryRun, directory: target.dir, overwritten: target.overwrites, steps: [] }), ...cost }, null, 2));
    } else {
      say(planTree(plan));
      for (const line of planSummary(plan)) say(line);
      if (target.overwrites.length) say(`would replace: ${target.overwrites.join(", ")}`);
      if (cost) say(`estimated cost once deployed: ${cost.estimate.summary}`);
      say("dry run: nothing was written");
    }
    return 0;
  }

  const deploy = deployOptions.deploy ? await onDemand() : undefined;
  if (deploy) {
    // Fail before writing anything when flyctl or the login is missing.
    const { checkFlyctl, checkLogin } = deploy;
    await checkLogin(await checkFlyctl(process.cwd(), process.env), process.env);
  }

  const spinner = p?.spinner();
  spinner?.start("Writing the project");
  await writePlan(plan, target);
  spinner?.stop(`Wrote ${plan.files.length} files to ${options.directory}`);
  if (!interactive && !json) say(`Wrote ${plan.files.length} files to ${options.directory}`);
  if (target.overwrites.length) say(`replaced: ${target.overwrites.join(", ")}`);

  const steps: StepResult[] = [];
  const runStep = async (label: string, step: () => Promise<StepResult>) => {
    spinner?.start(label);
    if (!interactive && !json) say(`${label}…`);
    const result = await step();
    steps.push(result);
    if (spinner) spinner.stop(result.note);
    else say(`${result.step}: ${result.note}`);
  };
  if (options.install || options.git) {
    const { initGit, installDependencies } = await onDemand();
    if (options.install) await runStep("Installing Python dependencies", () => installDependencies(target.dir, options));
    if (options.git) await runStep("Initialising git", () => initGit(target.dir));
  }

  let deployed: DeploySummary | undefined;
  let deployFailure: DeployError | undefined;
  if (deploy) {
    const { clackUi, deployProject, plainUi, rerunCommand } = deploy;
    try {
      deployed = await deployProject({
        dir: target.dir,
        org: deployOptions.org,
        regions: extraRegions(deployOptions.regions, undefined),
        options,
        yes: args.flags.has("yes"),
        ha: args.deploy.ha,
        env: process.env,
        ui: interactive ? clackUi() : plainUi(say),
        rerun: rerunCommand(target.dir, args.deploy),
      });
    } catch (error) {
      if (!(error instanceof deploy.DeployError)) throw error;
      deployFailure = error;
    }
  }

  // Exactly the commands that work now: an install that was skipped or failed is still to do.
  const installed = steps.some((s) => s.step === "install" && s.status === "done");
  const next = nextSteps(options, { installed, deployed: deployed !== undefined });
  const chatPage = plan.features.includes("ui") ? `Then open http://127.0.0.1:${PORT}/ to chat with it.` : undefined;
  if (json) {
    const report = jsonReport({ ...plan, nextSteps: next }, { dryRun, directory: target.dir, overwritten: target.overwrites, steps });
    const document = deployed ?? (deployFailure ? deploy!.failureDocument(deployFailure) : undefined);
    console.log(JSON.stringify({ ...report, ...cost, ...(deployFailure ? { ok: false } : {}), ...(document ? { deploy: document } : {}) }, null, 2));
  } else if (p) {
    p.note([...next, ...(chatPage ? ["", chatPage] : [])].join("\n"), "Next steps");
    p.log.message(`Re-create this project without questions:\n${plan.command}`);
    if (deployed) p.note(deploy!.summaryLines(deployed).join("\n"), "Deployed");
    if (!deployFailure) p.outro("Happy shipping!");
  } else {
    say("\nNext steps:");
    for (const step of next) say(`  ${step}`);
    if (chatPage) say(chatPage);
    say(`\nRe-create this project: ${plan.command}`);
    if (deployed) for (const line of ["", ...deploy!.summaryLines(deployed)]) say(line);
  }
  if (deployFailure) {
    deploy!.printFailureOutput(deployFailure);
    throw deployFailure;
  }
  return steps.some((s) => s.status === "failed") ? 1 : 0;
}

export async function run(argv: readonly string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    if (error instanceof UserError) {
      // Every error comes with a hint: its own, else where every option is listed.
      process.stderr.write(`error: ${plainText(error.message)}\n`);
      process.stderr.write(`hint: ${plainText(error.hint ?? `every option and its choices: ${GENERATOR.name} --help`)}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
