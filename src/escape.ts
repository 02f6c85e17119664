/**
 * A value a user typed, written into each format a generated file or a printed line uses.
 * Each helper returns a complete token of its format (quotes included) that reads back as
 * exactly the value. src/render.ts registers them as Handlebars helpers; the deploy and the
 * printed next steps call them directly.
 */

/** C0 controls and DEL: TOML, JSON and shells need them escaped; the CLI refuses them in most values. */
const CONTROL = /[\u0000-\u001f\u007f]/g;
const hex4 = (c: string) => c.charCodeAt(0).toString(16).padStart(4, "0");

/** A TOML basic string, quotes included. */
export function tomlString(value: string): string {
  return `"${value
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(CONTROL, (c) => `\\u${hex4(c)}`)}"`;
}

/** A Python string literal, quoted as ruff format would (double quotes unless that means more escapes). */
export function pythonString(value: string | null | undefined): string {
  if (value === null || value === undefined) return "None";
  const count = (quote: string) => value.split(quote).length - 1;
  const quote = count('"') > count("'") ? "'" : '"';
  const body = value
    .replace(/\\/g, "\\\\")
    .replaceAll(quote, `\\${quote}`)
    .replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return `${quote}${body}${quote}`;
}

/** JSON (for a plain string also a YAML flow scalar and a Python literal); null for a missing value. */
export function jsonValue(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** A POSIX shell word, quoted only when needed; `$`, backticks and `\` stay literal inside single quotes. */
export function shellWord(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A path as a shell word that no command reads as an option: `-dash` becomes `./-dash`. */
export function shellPath(value: string): string {
  return shellWord(value.startsWith("-") ? `./${value}` : value);
}

/**
 * A value of a `.env` file as python-dotenv (and so pydantic-settings) reads it: single-quoted,
 * where `\\` and `\'` are the only escapes. python-dotenv expands `${NAME}` in every value,
 * quoted or not, and has no escape for it; `${:-${}` expands to a literal `${` (no variable
 * has an empty name, so its default is used).
 */
export function dotenvValue(value: string): string {
  if (/^[A-Za-z0-9_@%+:,./-]*$/.test(value)) return value;
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`).replaceAll("${", "${:-${}")}'`;
}

/**
 * Inline Markdown text (a heading, a paragraph, a table cell): the characters that can start
 * emphasis, code, links, HTML (`<!--` would hide the rest of the page), entities, table cells
 * or a heading's closing `#`, escaped. Line-start markers cannot occur inside a line.
 */
export function markdownText(value: string): string {
  // An underscore between two letters or digits (my_api) never starts emphasis: left as it is.
  return value.replace(/[\\`*[\]<>&|~#]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, (c) => `\\${c}`);
}

/** An inline Markdown code span that shows exactly the value, backticks included. */
export function markdownCode(value: string): string {
  const longestRun = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  // CommonMark strips one space from each side when both are there; a backtick at an end needs one.
  const pad = value.startsWith("`") || value.endsWith("`") || (value.startsWith(" ") && value.endsWith(" ") && value.trim() !== "") ? " " : "";
  return `${fence}${pad}${value}${pad}${fence}`;
}
