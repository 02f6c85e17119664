/** ANSI escape sequences (colours, cursor moves, titles) and control characters other than tab and newline. */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * Text for a log, a pipe or NO_COLOR: without escape codes, whatever a child process
 * (uv, pip, git, flyctl) printed. Output that is not a terminal goes through this.
 */
export function plainText(text: string): string {
  return text.replace(ESCAPES, "");
}
