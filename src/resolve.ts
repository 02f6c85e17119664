import { GROUPS, PROJECT_OPTIONS, checkOption, flagUsage, type Answers, type Command, type Option, type ProjectOptions, type Question } from "./options.js";
import { UserError } from "./errors.js";
import { GENERATOR } from "./meta.js";

/** Asks one question in a terminal; returns the answer (a record of on/off for a group). */
export type Ask = (question: Question, initial: unknown, answers: Answers) => Promise<unknown>;

export type Mode =
  /** A person at a terminal answers what the flags left open. */
  | { kind: "ask"; ask: Ask }
  /** --yes: defaults fill what the flags left open. */
  | { kind: "defaults" }
  /** No terminal and no --yes: every question must be answered by a flag. */
  | { kind: "flags-only" };

/** Values given for options: flags, or recorded answers; a group's values under its name. */
export type Given = Record<string, unknown> & { features?: Record<string, boolean> };

/** What fixes a bad or missing value: a flag that works, and where every choice is listed. */
export function hintFor(decl: Option, command: Command = "create"): string {
  const usage = decl.example ? `for example --${decl.flag} ${decl.example}; ` : "";
  return `${usage}every option and its choices: ${GENERATOR.name}${command === "create" ? "" : ` ${command}`} --help`;
}

/** The value an option keeps: its declaration's normalize, when it has one (flags, recorded values, answers). */
const normalized = (decl: Option, value: unknown) =>
  decl.normalize && value !== undefined ? (decl.normalize as (v: unknown) => unknown)(value) : value;

const groupValue = (given: Given, decl: Option) => (decl.group ? (given[decl.group] as Record<string, unknown> | undefined)?.[decl.key] : given[decl.key]);

function invalid(decl: Option, value: unknown, answers: Answers, command: Command): void {
  const error = checkOption(decl, value, answers);
  if (error) throw new UserError(error, hintFor(decl, command), "invalid_option");
}

/**
 * The one resolver: turns given values (flags, or options recorded in a project) into complete,
 * valid options: given values first, then answers or defaults, in declaration order so later
 * defaults can depend on earlier answers. `known` holds what is not an option of this run but
 * defaults read (deploy knows the project's primary region); `recorded` holds answers recorded
 * earlier (a project's [tool.create-fly-fastapi]), taken instead of the defaults.
 */
export async function resolve(
  decls: readonly Option[],
  given: Given,
  mode: Mode,
  { command = "create", known = {}, recorded = {} }: { command?: Command; known?: Answers; recorded?: Given } = {},
): Promise<Record<string, unknown>> {
  const options = decls.filter((d) => d.scope !== "run");
  // Reject bad values before asking anything.
  for (const decl of options) {
    const value = groupValue(given, decl);
    if (value !== undefined) invalid(decl, value, { ...known, ...given } as Answers, command);
  }

  const answers: Record<string, unknown> = { ...known };
  const unanswered: string[] = [];
  const done = new Set<string>();
  for (const decl of options) {
    if (done.has(decl.key)) continue;
    if (decl.group) {
      // The whole group at once: flags first, then one question for the rest.
      const members = options.filter((d): d is Extract<Option, { type: "boolean" }> => d.group === decl.group && d.type === "boolean");
      for (const member of members) done.add(member.key);
      const chosen: Record<string, boolean> = {};
      for (const member of members) chosen[member.key] = (groupValue(given, member) as boolean | undefined) ?? member.default(answers as Answers) ?? false;
      const open = members.filter((m) => groupValue(given, m) === undefined);
      if (open.length > 0 && mode.kind === "ask") {
        Object.assign(chosen, await mode.ask({ ...GROUPS[decl.group], choices: open }, { ...chosen }, answers as Answers));
      } else if (open.length > 0 && mode.kind === "flags-only") {
        unanswered.push(...open.map((m) => flagUsage(m, " or ")));
      }
      answers[decl.group] = chosen;
      continue;
    }
    const value = given[decl.key];
    if (value !== undefined) {
      // Checked again with the answers of earlier options (e.g. base URL needs the provider).
      invalid(decl, value, answers as Answers, command);
      answers[decl.key] = normalized(decl, value);
      continue;
    }
    const asked = decl.prompt !== undefined && (decl.askWhen?.(answers as Answers) ?? true);
    const fallback = normalized(decl, recorded[decl.key]) ?? decl.default(answers as Answers);
    if (mode.kind === "ask" && asked) {
      answers[decl.key] = normalized(decl, await mode.ask(decl, fallback, answers as Answers));
      continue;
    }
    if (fallback === undefined) {
      const provider = answers.provider ? ` with --provider ${String(answers.provider)}` : "";
      throw new UserError(`missing ${flagUsage(decl, " or ")}: it has no default${provider}`, hintFor(decl, command), "missing_option");
    }
    if (mode.kind === "flags-only" && asked && !decl.quietDefault) unanswered.push(flagUsage(decl, " or "));
    answers[decl.key] = fallback;
  }

  if (unanswered.length > 0) {
    // Names only flags that exist: every one comes from a declaration --help lists.
    throw new UserError(
      `no terminal to ask in: pass --yes to accept the defaults, or give ${unanswered.join(", ")}`,
      `for example: ${GENERATOR.name}${command === "create" ? "" : ` ${command}`} ${String(answers.directory ?? "my-ai-api")} --yes`,
      "no_terminal",
    );
  }
  for (const key of Object.keys(known)) if (!options.some((d) => d.key === key)) delete answers[key];
  return answers;
}

/** The options of a project to create, complete and valid. */
export async function resolveOptions(given: Partial<ProjectOptions>, mode: Mode): Promise<ProjectOptions> {
  return (await resolve(PROJECT_OPTIONS, given as Given, mode)) as unknown as ProjectOptions;
}
