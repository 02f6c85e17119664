import type { Ask, Mode } from "./resolve.js";
import { plainText } from "./text.js";

/** Progress of one step: a tool's lines as they come, then one closing note. */
export interface StepProgress {
  line(text: string): void;
  done(note: string): void;
  /** The step failed; the tool's own lines are printed with the error afterwards. */
  fail(note: string): void;
}

/**
 * Everything a command shows or asks, chosen once per run (see `pickUi` in src/cli.ts):
 * - terminal: clack's prompts, spinners and notes (src/deploy/ui.ts, loaded on demand);
 * - plain: lines without escape codes, for CI, logs, pipes and NO_COLOR;
 * - json: progress as plain lines on stderr; stdout carries the one result document.
 */
export interface Ui {
  kind: "terminal" | "plain" | "json";
  /** A person is there to answer; when false nothing is ever asked. */
  interactive: boolean;
  /** Asks a declared option or group (only when `interactive`). */
  ask: Ask;
  intro(title: string): void;
  /** `streams`: the step prints many lines (the build), shown as a scrolling log. */
  step(title: string, options?: { streams?: boolean }): StepProgress;
  /** A masked question for a secret value; an optional one may be left empty. */
  askSecret(name: string, message: string, optional: boolean): Promise<string>;
  askAppName(message: string, suggestion: string, validate: (name: string) => string | undefined): Promise<string>;
  confirm(message: string): Promise<boolean>;
  info(text: string): void;
  /** A titled block: the next steps, the deploy's summary. */
  note(title: string, lines: readonly string[]): void;
  outro(text: string): void;
}

/** Plain lines for CI and logs, never an escape code; `print` is stderr when stdout carries --json. */
export function plainUi(print: (line: string) => void, kind: "plain" | "json" = "plain"): Ui {
  const write = (line: string) => print(plainText(line));
  const never = async (): Promise<never> => {
    throw new Error("nothing is asked without a terminal");
  };
  return {
    kind,
    interactive: false,
    ask: never,
    intro: () => {},
    step(title) {
      write(`${title}…`);
      return {
        line: (text) => write(`  │ ${text}`),
        done: (note) => write(`  ✓ ${note}`),
        fail: (note) => write(`  ✗ ${note}`),
      };
    },
    askSecret: never,
    askAppName: never,
    confirm: never,
    info: write,
    note(title, lines) {
      write(`\n${title}:`);
      for (const line of lines) write(line === "" ? "" : `  ${line}`);
    },
    outro: () => {},
  };
}

/** --json: progress as plain lines on stderr, so that stdout holds the document alone. */
export function jsonUi(): Ui {
  return plainUi((line) => process.stderr.write(`${line}\n`), "json");
}

/** Who answers what the flags leave open: the person at the terminal, the defaults (--yes), or no one. */
export function modeFor(ui: Ui, yes: boolean): Mode {
  return ui.interactive ? { kind: "ask", ask: ui.ask } : yes ? { kind: "defaults" } : { kind: "flags-only" };
}
