import { OPTIONS, checkOption, type OptionDecl, type ProjectOptions } from "./options.js";
import { UserError } from "./errors.js";

/** Asks one question in a terminal; returns the answer. */
export type Ask = (decl: OptionDecl, initial: ProjectOptions[keyof ProjectOptions] | undefined, answers: Partial<ProjectOptions>) => Promise<unknown>;

export type Mode =
  /** A person at a terminal answers what the flags left open. */
  | { kind: "ask"; ask: Ask }
  /** --yes: defaults fill what the flags left open. */
  | { kind: "defaults" }
  /** No terminal and no --yes: every question must be answered by a flag. */
  | { kind: "flags-only" };

const flagUsage = (decl: OptionDecl) =>
  decl.type === "boolean" ? `--${decl.flag} or --no-${decl.flag}` : `--${decl.flag} ${decl.arg ?? "<value>"}`;

/**
 * Turns the flags given into complete, valid options: flags first, then answers
 * or defaults, in declaration order so later defaults can depend on earlier answers.
 */
export async function resolveOptions(given: Partial<ProjectOptions>, mode: Mode): Promise<ProjectOptions> {
  // Reject bad flags before asking anything.
  for (const decl of OPTIONS) {
    const value = given[decl.key];
    if (value !== undefined) {
      const error = checkOption(decl, value, given);
      if (error) throw new UserError(error);
    }
  }

  const answers: Partial<ProjectOptions> = {};
  const unanswered: OptionDecl[] = [];
  for (const decl of OPTIONS) {
    const flagValue = given[decl.key];
    if (flagValue !== undefined) {
      // Validate again with the answers of earlier options (e.g. base URL needs the provider).
      const error = checkOption(decl, flagValue, answers);
      if (error) throw new UserError(error);
      Object.assign(answers, { [decl.key]: flagValue });
      continue;
    }
    const asked = decl.prompt !== undefined && (decl.askWhen?.(answers) ?? true);
    const fallback = decl.default(answers);
    if (mode.kind === "ask" && asked) {
      const value = await mode.ask(decl, fallback, answers);
      Object.assign(answers, { [decl.key]: value });
      continue;
    }
    if (fallback === undefined) {
      const provider = answers.provider ? ` with --provider ${answers.provider}` : "";
      throw new UserError(`missing ${flagUsage(decl)}: it has no default${provider}`);
    }
    if (mode.kind === "flags-only" && asked) unanswered.push(decl);
    Object.assign(answers, { [decl.key]: fallback });
  }

  if (unanswered.length > 0) {
    const flags = unanswered.map(flagUsage).join(", ");
    throw new UserError(`no terminal to ask in: pass --yes to accept the defaults, or give ${flags}`);
  }
  return answers as ProjectOptions;
}
