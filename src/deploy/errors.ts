import { UserError } from "../errors.js";

export type StepName = "preflight" | "app" | "postgres" | "redis" | "secrets" | "deploy" | "regions" | "smoke";

/** A step that failed: which one, what is wrong, what fixes it, and flyctl's own lines. */
export class DeployError extends UserError {
  constructor(
    readonly step: StepName,
    /** What is wrong, without the step's name. */
    readonly reason: string,
    hint: string,
    readonly output: readonly string[] = [],
  ) {
    super(`deploy stopped at ${step}: ${reason}`, hint);
    this.name = "DeployError";
  }
}
