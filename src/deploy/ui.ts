import * as p from "@clack/prompts";
import { askWithClack } from "../prompts.js";
import { plainUi, type StepProgress, type Ui } from "../ui.js";
import { DeployError, type StepName } from "./errors.js";

export { plainUi, type StepProgress };
/** The deploy shows and asks through the one Ui every command uses. */
export type DeployUi = Ui;

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

/** The terminal Ui: clack's prompts, spinners, logs and notes. `interactive` false (--yes): it shows, never asks. */
export function clackUi({ interactive = true }: { interactive?: boolean } = {}): Ui {
  return {
    kind: "terminal",
    interactive,
    ask: askWithClack,
    intro: (title) => p.intro(title),
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
    note: (title, lines) => p.note(lines.join("\n"), title),
    outro: (text) => p.outro(text),
  };
}
