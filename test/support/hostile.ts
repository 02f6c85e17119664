/**
 * Values a user (or a hostile client writing the flags) can type, for every option that takes
 * free text. Each is either refused by the CLI's check with one line, or lands intact in every
 * file and printed line it reaches (test/unit/hostile-values.test.ts, test/e2e/hostile-values.test.ts).
 */
import type { ProjectOptions } from "../../src/options.js";
import { resolveOptions } from "../../src/resolve.js";
import { UserError } from "../../src/errors.js";

/** Text that means something in a shell, dotenv, TOML, Python, JSON, YAML or Markdown. */
export const HOSTILE_TEXT = [
  "'",
  '"',
  "`",
  "$(id)",
  "`id`",
  "${HOME}",
  "$HOME",
  "${:-x}",
  "\\",
  "\\'",
  "'\\",
  "#",
  "a #comment",
  "ünïcødé 模型 🚀",
  "-leading-dash",
  "--double-dash",
  "with spaces",
  " padded ",
  "*",
  "a|b",
  "<!-- hidden",
  "a;b&&c>d",
  "!!",
  '""" and \'\'\'',
  "{{model}}",
  "%s %(x)s {0}",
  "[x](y) _z_ **w**",
  "```",
  `'\${HOME}"\`$(id)\`\\'`,
  "x".repeat(200),
];

/** What the CLI keeps of a model id it accepts: surrounding whitespace dropped, as the generated app reads MODEL. */
export const keptModel = (typed: string) => typed.trim();

/** Model ids the CLI refuses: empty, control characters, a line break of any kind, too long. */
export const REFUSED_MODELS = ["", "   ", "a\nb", "a\rb", "tab\there", "nul\u0000", "del\u007f", "nel\u0085", "ls\u2028", "ps\u2029", "\u001b[31mred", "x".repeat(201)];

/** Base URLs the CLI accepts, as typed or pasted, and what it keeps of each. */
export const ACCEPTED_URLS: [typed: string, kept: string][] = [
  ["https://llm.example/v1", "https://llm.example/v1"],
  ["https://llm.example/v1\n", "https://llm.example/v1"],
  ["\thttps://llm.example/v1 ", "https://llm.example/v1"],
  ["  HTTPS://llm.example/v1\r\n", "https://llm.example/v1"],
  ["Http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"],
  ["https://llm.example/v1?key=$(id)&x='y'", "https://llm.example/v1?key=$(id)&x='y'"],
  ["https://llm.example/${HOME}/v1", "https://llm.example/${HOME}/v1"],
  ["https://llm.example/a\"b`c|d*#e", "https://llm.example/a\"b`c|d*#e"],
  ["https://ünï.example/v1", "https://ünï.example/v1"],
];

/** Base URLs the CLI refuses. */
export const REFUSED_URLS = [
  "",
  "llm.example/v1",
  "ftp://llm.example/v1",
  "https://",
  "http:/llm.example",
  "https:///v1",
  "https://llm example/v1",
  "https://llm.example/v 1",
  "https://llm.example/\tv1",
  "https://llm.example/v1\nX-Injected: 1",
  "https://llm.example\\@evil.example/v1",
  "https://user:secret@llm.example/v1",
  "https://llm.example/\u2028v1",
];

/** Directory names: each reaches the README's title, the re-create command, `cd` and fly.toml. */
export const HOSTILE_DIRECTORIES = HOSTILE_TEXT.filter((value) => value.trim() !== "" && !value.includes("/")).map((value) => value.slice(0, 120));

/** The options the CLI resolves from these flags (as with --yes), or the one-line error it refuses them with. */
export async function cliCheck(given: Partial<ProjectOptions>): Promise<ProjectOptions | string> {
  try {
    return await resolveOptions({ install: false, git: false, ...given }, { kind: "defaults" });
  } catch (error) {
    if (error instanceof UserError) return error.message;
    throw error;
  }
}
