import { OPTIONS, checkOption, type OptionDecl, type ProjectOptions } from "./options.js";
import { UserError } from "./errors.js";
import { GENERATOR } from "./meta.js";

/** Asks one question in a terminal; returns the answer. */
export type Ask = (decl: OptionDecl, initial: ProjectOptions[keyof ProjectOptions] | undefined, answers: Partial<ProjectOptions>) => Promise<unknown>;

export type Mode =
  /** A person at a terminal answers what the flags left open. */
  | { kind: "ask"; ask: Ask }
  /** --yes: defaults fill what the flags left open. */
  | { kind: "defaults" }
  /** No terminal and no --yes: every question must be answered by a flag. */
  | { kind: "flags-only" };

const flagUsage = (decl: OptionDecl, missingFeatures: string[] = []) =>
  decl.type === "features"
    ? missingFeatures.map((id) => `--${id} or --no-${id}`).join(", ")
    : decl.type === "boolean"
      ? `--${decl.flag} or --no-${decl.flag}`
      : `--${decl.flag} ${decl.arg ?? "<value>"}`;

/** A value that works for each option, for the hint of an error. */
const EXAMPLES: Partial<Record<keyof ProjectOptions, string>> = {
  directory: "my-ai-api",
  name: "my-ai-api",
  provider: "groq",
  baseUrl: "https://my-vllm.modal.run/v1",
  model: "Qwen/Qwen3-8B",
  region: "fra",
  pythonTool: "uv",
};

/** What fixes a bad or missing value: a flag that works, and where every choice is listed. */
function hintFor(decl: OptionDecl): string {
  const example = EXAMPLES[decl.key];
  const usage = example ? `for example --${decl.flag} ${example}; ` : "";
  return `${usage}every option and its choices: ${GENERATOR.name} --help`;
}

/** The value an option keeps: its declaration's normalize, when it has one. */
const normalized = (decl: OptionDecl, value: unknown) =>
  decl.normalize ? (decl.normalize as (v: unknown) => unknown)(value) : value;

/** Features: each has its own flag pair; those without one are asked together or take defaults. */
async function resolveFeatures(
  decl: Extract<OptionDecl, { type: "features" }>,
  given: Partial<Record<string, boolean>> | undefined,
  mode: Mode,
  answers: Partial<ProjectOptions>,
): Promise<{ features: Record<string, boolean>; unanswered?: string }> {
  const chosen: Record<string, boolean> = { ...decl.default(answers), ...given } as Record<string, boolean>;
  const open = decl.choices.filter((c) => given?.[c.value] === undefined);
  if (open.length === 0) return { features: chosen };
  if (mode.kind === "ask") {
    const asked = (await mode.ask({ ...decl, choices: open }, chosen, answers)) as Record<string, boolean>;
    return { features: { ...chosen, ...asked } };
  }
  return { features: chosen, unanswered: mode.kind === "flags-only" ? flagUsage(decl, open.map((c) => c.value)) : undefined };
}

/**
 * Turns the flags given into complete, valid options: flags first, then answers
 * or defaults, in declaration order so later defaults can depend on earlier answers.
 */
export async function resolveOptions(given: Partial<ProjectOptions>, mode: Mode): Promise<ProjectOptions> {
  // Reject bad flags before asking anything.
  for (const decl of OPTIONS) {
    const value = given[decl.key];
    if (value !== undefined && decl.type !== "features") {
      const error = checkOption(decl, value, given);
      if (error) throw new UserError(error, hintFor(decl));
    }
  }

  const answers: Partial<ProjectOptions> = {};
  const unanswered: string[] = [];
  for (const decl of OPTIONS) {
    if (decl.type === "features") {
      const resolved = await resolveFeatures(decl, given.features, mode, answers);
      answers.features = resolved.features;
      if (resolved.unanswered) unanswered.push(resolved.unanswered);
      continue;
    }
    const flagValue = given[decl.key];
    if (flagValue !== undefined) {
      // Validate again with the answers of earlier options (e.g. base URL needs the provider).
      const error = checkOption(decl, flagValue, answers);
      if (error) throw new UserError(error, hintFor(decl));
      Object.assign(answers, { [decl.key]: normalized(decl, flagValue) });
      continue;
    }
    const asked = decl.prompt !== undefined && (decl.askWhen?.(answers) ?? true);
    const fallback = decl.default(answers);
    if (mode.kind === "ask" && asked) {
      const value = await mode.ask(decl, fallback, answers);
      Object.assign(answers, { [decl.key]: normalized(decl, value) });
      continue;
    }
    if (fallback === undefined) {
      const provider = answers.provider ? ` with --provider ${answers.provider}` : "";
      throw new UserError(`missing ${flagUsage(decl)}: it has no default${provider}`, hintFor(decl));
    }
    if (mode.kind === "flags-only" && asked) unanswered.push(flagUsage(decl));
    Object.assign(answers, { [decl.key]: fallback });
  }

  if (unanswered.length > 0) {
    const flags = unanswered.join(", ");
    throw new UserError(
      `no terminal to ask in: pass --yes to accept the defaults, or give ${flags}`,
      `for example: ${GENERATOR.name} ${answers.directory ?? "my-ai-api"} --yes`,
    );
  }
  return answers as ProjectOptions;
}
