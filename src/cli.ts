import { parseArgs, type ParsedArgs } from "./args.js";
import { createCommand } from "./commands/create.js";
import type { CommandModule, CommandResult } from "./commands/types.js";
import { DeployError } from "./deploy/errors.js";
import { UserError } from "./errors.js";
import { GENERATOR } from "./meta.js";
import { planProject } from "./plan.js";
import { applyChanges } from "./write.js";
import { plainText } from "./text.js";
import { jsonUi, plainUi, type Ui } from "./ui.js";

/** What `--yes --no-install --no-git` never runs, loaded when it runs (see src/on-demand.ts). */
const onDemand = () => import("./on-demand.js");

const set = (value: string | undefined) => value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";

/** A person can answer questions: both ends are terminals and this is not CI. */
export function canAsk(env = process.env): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY && !set(env.CI));
}

/**
 * The one Ui of a run, chosen from the flags and the terminal: --json; a terminal (clack); or
 * plain lines (no terminal, CI, NO_COLOR). With NO_COLOR a person at a terminal is still asked,
 * by the same prompts without colour, and everything else is plain lines.
 */
export async function pickUi(flags: ReadonlySet<string>, env = process.env): Promise<Ui> {
  if (flags.has("json")) return jsonUi();
  // canAsk() after --json and --yes: it would set up process.stdin for nothing.
  const interactive = !flags.has("yes") && canAsk(env);
  const terminal = process.stdout.isTTY && !set(env.CI) && !(env.NO_COLOR ?? "");
  const plain = plainUi((line) => process.stdout.write(`${line}\n`));
  if (!terminal && !interactive) return plain;
  const { clackUi } = await onDemand();
  const clack = clackUi({ interactive });
  return terminal ? clack : { ...plain, interactive, ask: clack.ask, askSecret: clack.askSecret, askAppName: clack.askAppName, confirm: clack.confirm };
}

/** Errors whose --json document the command already printed (with what it did before failing). */
const documented = new WeakSet<Error>();

/** Parses, picks the command and the Ui, runs the command, prints its result. */
export async function main(argv: readonly string[]): Promise<number> {
  const args: ParsedArgs = parseArgs(argv);
  if (args.flags.has("help")) {
    const { helpText } = await onDemand();
    console.log(helpText(args.command));
    return 0;
  }
  if (args.flags.has("version")) {
    console.log(GENERATOR.version);
    return 0;
  }
  const command: CommandModule<unknown> = (
    args.command === "create" ? createCommand : args.command === "deploy" ? (await onDemand()).deployCommand : (await onDemand()).updateCommand(args.command, { planProject, applyChanges })
  ) as CommandModule<unknown>;
  const ui = await pickUi(args.flags);
  const result: CommandResult = await command.run(await command.resolve(args, ui), ui);
  if (ui.kind === "json") console.log(JSON.stringify(result.document, null, 2));
  else result.show(ui);
  if (result.error) {
    if (ui.kind === "json") documented.add(result.error);
    throw result.error;
  }
  return result.exitCode;
}

/** Every error comes with a hint: its own, else where every option is listed. */
const hintOf = (error: UserError) => error.hint ?? `every option and its choices: ${GENERATOR.name} --help`;

/** `{"ok": false, "error": {...}}`: what a script that asked for --json gets on a failure. */
export function failureDocument(error: UserError) {
  return {
    ok: false,
    error: { code: error instanceof DeployError ? "deploy_failed" : error.code, message: error.message, hint: hintOf(error) },
    ...(error instanceof DeployError ? { step: error.step, output: error.output } : {}),
  };
}

/** --json before any `--`: asked for even when the arguments do not parse. */
const wantsJson = (argv: readonly string[]) => argv.slice(0, argv.includes("--") ? argv.indexOf("--") : undefined).includes("--json");

export async function run(argv: readonly string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    if (wantsJson(argv) && !documented.has(error)) console.log(JSON.stringify(failureDocument(error), null, 2));
    // flyctl's own lines of a failed deploy step, just before the error line.
    if (error instanceof DeployError && error.output.length > 0) {
      process.stderr.write(`${error.output.map((line) => `  flyctl │ ${plainText(line)}`).join("\n")}\n`);
    }
    process.stderr.write(`error: ${plainText(error.message)}\n`);
    process.stderr.write(`hint: ${plainText(hintOf(error))}\n`);
    process.exitCode = 1;
  }
}
