import { OPTIONS, UPDATE_COMMANDS, type Command, type DeployOptions, type Option, type ProjectOptions } from "./options.js";
import { UserError } from "./errors.js";

export interface ParsedArgs {
  command: Command;
  /** Project options given as flags (or the positional directory). */
  given: Partial<ProjectOptions>;
  /** Deploy options given as flags (--deploy, --org, --regions...). */
  deploy: Partial<DeployOptions>;
  /** Flags that steer the run (scope "run"): yes, dry-run, json, force, help, version. */
  flags: Set<string>;
  /** add and remove: the features named before the directory. */
  features: string[];
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
  const shorts = new Map<string, Option>(OPTIONS.flatMap((o) => (o.short ? [[o.short, o]] : [])));
  const knownFlags = OPTIONS.map((o) => o.flag);

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
        const decl = shorts.get(letter);
        if (!decl) throw new UserError(`unknown option -${letter}; see --help`, undefined, "unknown_option");
        flags.add(decl.flag);
      }
      continue;
    }
    const [rawName, inlineValue] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const negated = rawName.startsWith("no-");
    const name = negated ? rawName.slice(3) : rawName;
    const decl = OPTIONS.find((o) => o.flag === name);
    if (!decl || (negated && decl.scope === "run")) {
      const suggestion = decl ? undefined : closest(rawName, knownFlags);
      throw new UserError(`unknown option --${rawName}${suggestion ? `; did you mean --${suggestion}?` : ""} (see --help)`, undefined, "unknown_option");
    }
    const target = decl.scope === "deploy" ? deploy : decl.group ? ((given[decl.group] ??= {}) as Record<string, unknown>) : given;
    if (decl.type === "boolean") {
      if (inlineValue !== undefined) throw new UserError(`--${rawName} takes no value`, undefined, "bad_arguments");
      if (decl.scope === "run") {
        flags.add(decl.flag);
        continue;
      }
      if (decl.key in target) throw new UserError(`--${name} is given twice`, undefined, "bad_arguments");
      target[decl.key] = !negated;
      continue;
    }
    if (negated) throw new UserError(`unknown option --${rawName}; --${name} takes a value (see --help)`, undefined, "unknown_option");
    const value = inlineValue ?? argv[++i];
    if (value === undefined || (inlineValue === undefined && value.startsWith("--"))) {
      throw new UserError(`--${name} needs a value: --${name} ${decl.arg ?? "<value>"}`, undefined, "bad_arguments");
    }
    if (decl.key in target) throw new UserError(`--${name} is given twice`, undefined, "bad_arguments");
    target[decl.key] = value;
  }

  let command: ParsedArgs["command"] = "create";
  if (positionals[0] === "deploy" || (UPDATE_COMMANDS as readonly string[]).includes(positionals[0] ?? "")) {
    command = positionals.shift() as Command;
  }
  // add/remove <feature...> [dir]: the last word is the directory when it names no feature.
  const features: string[] = [];
  if (command === "add" || command === "remove") {
    const ids = new Set(OPTIONS.filter((o) => o.group === "features").map((o) => o.flag));
    while (positionals.length > 0 && (ids.has(positionals[0]!) || positionals.length > 1)) {
      const word = positionals.shift()!;
      if (!ids.has(word)) {
        const suggestion = closest(word, [...ids]);
        throw new UserError(`unknown feature "${word}"${suggestion ? `; did you mean ${suggestion}?` : ""}`, `the features: ${[...ids].join(", ")}`, "unknown_feature");
      }
      if (!features.includes(word)) features.push(word);
    }
  }
  if (positionals.length > 1) {
    throw new UserError(`expected one directory, got ${positionals.length}: ${positionals.join(" ")}`, undefined, "bad_arguments");
  }
  if (positionals.length === 1) {
    if (given.directory !== undefined && given.directory !== positionals[0]) {
      throw new UserError(`two directories given: ${positionals[0]} and --directory ${String(given.directory)}`, undefined, "bad_arguments");
    }
    given.directory = positionals[0];
  }
  return { command, given: given as Partial<ProjectOptions>, deploy: deploy as Partial<DeployOptions>, flags, features };
}
