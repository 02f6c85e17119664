import * as p from "@clack/prompts";
import { checkOption, type OptionDecl } from "./options.js";
import type { Ask } from "./resolve.js";

/** Ctrl-C or Escape at any question: say so and exit 1, with nothing written. */
export function exitIfCancelled<T>(value: T | symbol): T {
  if (p.isCancel(value)) {
    p.cancel("Cancelled: nothing was written.");
    process.exit(1);
  }
  return value as T;
}

/** Asks one declared option with the matching clack prompt. */
export const askWithClack: Ask = async (decl: OptionDecl, initial, answers) => {
  const validate = (value: unknown) => checkOption(decl, value, answers);
  switch (decl.type) {
    case "boolean":
      return exitIfCancelled(await p.confirm({ message: decl.prompt!, initialValue: initial as boolean }));
    case "choice":
      return exitIfCancelled(
        await p.select({
          message: decl.prompt!,
          initialValue: initial as string,
          maxItems: 10,
          options: decl.choices.map((c) => ({ value: c.value, label: c.label, hint: c.hint ?? c.group })),
        }),
      );
    case "features": {
      const initialOn = initial as Record<string, boolean>;
      const picked = exitIfCancelled<string[]>(
        await p.multiselect<string>({
          message: decl.prompt!,
          required: false,
          initialValues: decl.choices.filter((c) => initialOn[c.value]).map((c) => c.value),
          options: decl.choices.map((c) => ({ value: c.value, label: c.label, hint: c.hint })),
        }),
      );
      return Object.fromEntries(decl.choices.map((c) => [c.value, picked.includes(c.value)]));
    }
    case "string":
      return exitIfCancelled(
        await p.text({
          message: decl.prompt!,
          placeholder: initial as string | undefined,
          defaultValue: initial as string | undefined,
          validate: (value) => validate(value === "" || value === undefined ? (initial ?? "") : value),
        }),
      );
  }
};
