/** An error caused by the user's input or environment: printed as one line, exit code 1. */
export class UserError extends Error {
  constructor(
    message: string,
    /** A command or flag that fixes it, printed after the message. */
    readonly hint?: string,
    /** Stable, for scripts: `error.code` of the --json failure document. */
    readonly code: string = "invalid_input",
  ) {
    super(message);
    this.name = "UserError";
  }
}
