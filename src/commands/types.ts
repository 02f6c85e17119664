import type { ParsedArgs } from "../args.js";
import type { UserError } from "../errors.js";
import type { Ui } from "../ui.js";

/** What a command returns: the --json document and what a person reads. */
export interface CommandResult {
  /** The one --json document; `ok` says whether the run did all it was asked. */
  document: { ok: boolean };
  /** Shows the result through the Ui (terminal and plain; --json prints `document` instead). */
  show(ui: Ui): void;
  /** A failure after work worth reporting (a deploy after the project was written): shown, then raised. */
  error?: UserError;
  exitCode: number;
}

/** A command module: resolves its options from the flags (asking through the Ui), then runs. */
export interface CommandModule<Resolved> {
  resolve(args: ParsedArgs, ui: Ui): Promise<Resolved>;
  run(resolved: Resolved, ui: Ui): Promise<CommandResult>;
}
