import * as p from "@clack/prompts";
import { plainText } from "../text.js";
import { DeployError, type StepName } from "./errors.js";

/** Progress of one step: flyctl's lines as they come, then one closing note. */
export interface StepProgress {
  line(text: string): void;
  done(note: string): void;
  /** The step failed; flyctl's own lines are printed with the error afterwards. */
  fail(note: string): void;
}

/** Everything the deploy shows or asks; a terminal gets clack, CI gets plain lines. */
export interface DeployUi {
  /** A person is there to answer; when false nothing is ever asked. */
  interactive: boolean;
  /** `streams`: the step prints many lines (the build), shown as a scrolling log. */
  step(title: string, options?: { streams?: boolean }): StepProgress;
  /** A masked question for a secret value; an optional one may be left empty. */
  askSecret(name: string, message: string, optional: boolean): Promise<string>;
  askAppName(message: string, suggestion: string, validate: (name: string) => string | undefined): Promise<string>;
  confirm(message: string): Promise<boolean>;
  info(text: string): void;
}

/** One line, no line breaks: a value that can go in `NAME=value` on stdin. */
export function checkSecretValue(value: string | undefined): string | undefined {
  if (!value) return "empty: paste the key";
  if (/[\r\n]/.test(value)) return "the value has a line break; paste the key on one line";
  return undefined;
}

function answered<T>(value: T | symbol, step: StepName = "preflight"): Exclude<T, symbol> {
  if (p.isCancel(value)) throw new DeployError(step, "cancelled at a question", "deploy when ready: create-fly-fastapi deploy [directory]");
  return value as Exclude<T, symbol>;
}

export function clackUi(): DeployUi {
  return {
    interactive: true,
    step(title, { streams = false } = {}) {
      if (streams) {
        const log = p.taskLog({ title, limit: 12, retainLog: true });
        return {
          line: (text) => log.message(text),
          done: (note) => log.success(note),
          fail: (note) => log.error(note, { showLog: false }),
        };
      }
      const spinner = p.spinner();
      spinner.start(title);
      return {
        line: (text) => spinner.message(`${title}: ${text.slice(0, 60)}`),
        done: (note) => spinner.stop(note),
        fail: (note) => spinner.error(note),
      };
    },
    askSecret: async (_name, message, optional) =>
      answered(await p.password({ message, validate: (value) => (optional && !value ? undefined : checkSecretValue(value)) })) ?? "",
    askAppName: async (message, suggestion, validate) =>
      answered(
        await p.text({
          message,
          placeholder: suggestion,
          defaultValue: suggestion,
          validate: (value) => validate(value || suggestion),
        }),
        "app",
      ),
    confirm: async (message) => answered(await p.confirm({ message, initialValue: true })),
    info: (text) => p.log.info(text),
  };
}

/** Plain lines for CI and logs, never an escape code; `write` is stderr when stdout carries --json. */
export function plainUi(print: (line: string) => void): DeployUi {
  const write = (line: string) => print(plainText(line));
  const never = (): never => {
    throw new Error("nothing is asked without a terminal");
  };
  return {
    interactive: false,
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
  };
}
