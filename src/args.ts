import { COMMAND_FLAGS, DEPLOY_OPTIONS, OPTIONS, type DeployOptions, type ProjectOptions } from "./options.js";
import { UserError } from "./errors.js";

export interface ParsedArgs {
  command: "create" | "deploy";
  /** Project options given as flags (or the positional directory). */
  given: Partial<ProjectOptions>;
  /** Deploy options given as flags: --deploy, --org, --regions. */
  deploy: Partial<DeployOptions>;
  /** Command flags: yes, dry-run, json, force, help, version. */
  flags: Set<string>;
}

function closest(word: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  const best = candidates.map((c) => ({ c, d: distance(word, c) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? best.c : undefined;
}

/** Parses argv by the option declarations: --flag value, --flag=value, --no-flag, -y. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const given: Record<string, unknown> = {};
  const deploy: Record<string, unknown> = {};
  const flags = new Set<string>();
  const positionals: string[] = [];
  const shorts = new Map<string, string>(COMMAND_FLAGS.flatMap((f) => ("short" in f ? [[f.short, f.flag]] : [])));
  const featureIds = OPTIONS.flatMap((o) => (o.type === "features" ? o.choices.map((c) => c.value) : []));
  const projectFlags = OPTIONS.filter((o) => o.type !== "features");
  const knownFlags = [...projectFlags, ...DEPLOY_OPTIONS, ...COMMAND_FLAGS].map((f) => f.flag).concat(featureIds);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (/^-[a-zA-Z]+$/.test(arg)) {
      for (const letter of arg.slice(1)) {
        const flag = shorts.get(letter);
        if (!flag) throw new UserError(`unknown option -${letter}; see --help`);
        flags.add(flag);
      }
      continue;
    }
    const [rawName, inlineValue] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const negated = rawName.startsWith("no-");
    const name = negated ? rawName.slice(3) : rawName;
    if (featureIds.includes(name)) {
      if (inlineValue !== undefined) throw new UserError(`--${rawName} takes no value`);
      const features = (given.features ??= {}) as Record<string, boolean>;
      if (name in features) throw new UserError(`--${name} is given twice`);
      features[name] = !negated;
      continue;
    }
    const deployDecl = DEPLOY_OPTIONS.find((o) => o.flag === name);
    const decl = projectFlags.find((o) => o.flag === name) ?? deployDecl;
    const target = deployDecl ? deploy : given;
    const command = COMMAND_FLAGS.find((f) => f.flag === name);
    if (!decl && !command) {
      const suggestion = closest(rawName, knownFlags);
      throw new UserError(`unknown option --${rawName}${suggestion ? `; did you mean --${suggestion}?` : ""} (see --help)`);
    }
    if (command || decl?.type === "boolean") {
      if (inlineValue !== undefined) throw new UserError(`--${rawName} takes no value`);
      if (command) {
        if (negated) throw new UserError(`unknown option --${rawName} (see --help)`);
        flags.add(command.flag);
      } else {
        target[decl!.key] = !negated;
      }
      continue;
    }
    if (negated) throw new UserError(`unknown option --${rawName}; --${name} takes a value (see --help)`);
    const value = inlineValue ?? argv[++i];
    if (value === undefined || (inlineValue === undefined && value.startsWith("--"))) {
      throw new UserError(`--${name} needs a value: --${name} ${decl!.arg ?? "<value>"}`);
    }
    if (decl!.key in target) throw new UserError(`--${name} is given twice`);
    target[decl!.key] = value;
  }

  let command: ParsedArgs["command"] = "create";
  if (positionals[0] === "deploy") {
    command = "deploy";
    positionals.shift();
  }
  if (positionals.length > 1) {
    throw new UserError(`expected one directory, got ${positionals.length}: ${positionals.join(" ")}`);
  }
  if (positionals.length === 1) {
    if (given.directory !== undefined && given.directory !== positionals[0]) {
      throw new UserError(`two directories given: ${positionals[0]} and --directory ${String(given.directory)}`);
    }
    given.directory = positionals[0];
  }
  return { command, given: given as Partial<ProjectOptions>, deploy: deploy as Partial<DeployOptions>, flags };
}
