import * as p from "@clack/prompts";
import { checkOption, type Question } from "./options.js";
import type { Ask } from "./resolve.js";

/** Ctrl-C or Escape at any question: say so and exit 1, with nothing written. */
export function exitIfCancelled<T>(value: T | symbol): T {
  if (p.isCancel(value)) {
    p.cancel("Cancelled: nothing was written.");
    process.exit(1);
  }
  return value as T;
}

/** The choices of a list option by their group (continent), without `left`: "fra · Frankfurt, Germany". */
export function choiceGroups(choices: readonly { value: string; label: string; group?: string }[], left?: string): Record<string, { value: string; label: string }[]> {
  const groups: Record<string, { value: string; label: string }[]> = {};
  for (const choice of choices) {
    if (choice.value === left) continue;
    (groups[choice.group ?? ""] ??= []).push({ value: choice.value, label: choice.label });
  }
  return groups;
}

/** The one asker: each declared option or group with the matching clack prompt. */
export const askWithClack: Ask = async (question: Question, initial, answers) => {
  switch (question.type) {
    case "boolean":
      return exitIfCancelled(await p.confirm({ message: question.prompt!, initialValue: initial as boolean }));
    case "choice":
      return exitIfCancelled(
        await p.select({
          message: question.prompt!,
          initialValue: initial as string,
          maxItems: 10,
          options: question.choices.map((c) => ({ value: c.value, label: c.label, hint: c.hint ?? c.group })),
        }),
      );
    case "list": {
      // The primary region is never an extra one.
      const picked = exitIfCancelled<string[]>(
        await p.groupMultiselect<string>({
          message: question.prompt!,
          options: choiceGroups(question.choices, answers.region),
          initialValues: String(initial ?? "").split(",").filter(Boolean),
          required: false,
          // A whole continent at once would start many Machines: pick cities one by one.
          selectableGroups: false,
          maxItems: 14,
        }),
      );
      return picked.join(",");
    }
    case "group": {
      const initialOn = initial as Record<string, boolean>;
      const picked = exitIfCancelled<string[]>(
        await p.multiselect<string>({
          message: question.prompt,
          required: false,
          initialValues: question.choices.filter((c) => initialOn[c.key]).map((c) => c.key),
          options: question.choices.map((c) => ({ value: c.key, label: c.prompt ?? c.key, hint: c.hint })),
        }),
      );
      return Object.fromEntries(question.choices.map((c) => [c.key, picked.includes(c.key)]));
    }
    case "string":
      return exitIfCancelled(
        await p.text({
          message: question.prompt!,
          placeholder: initial as string | undefined,
          defaultValue: initial as string | undefined,
          validate: (value) => checkOption(question, value === "" || value === undefined ? (initial ?? "") : value, answers),
        }),
      );
  }
};
