import Handlebars from "handlebars";
import { dotenvValue, jsonValue, markdownCode, markdownText, pythonString, shellWord, tomlString } from "./escape.js";

/**
 * Handlebars with escaping per target format (src/escape.ts) instead of HTML escaping.
 * Templates print any value that a user typed through one of these helpers:
 *   {{toml x}}    a TOML basic string, quotes included
 *   {{py x}}      a Python string literal (or None for null), quotes included;
 *                 {{pyAssign "NAME" x}} the statement `NAME = <literal>` as ruff formats it;
 *                 {{pySet "NAME" list}} `NAME = {<literals>}`, one line or one item a line, as ruff formats it
 *   {{json x}}    JSON (also valid YAML and a Python literal for plain strings)
 *   {{shell x}}   a POSIX shell word, quoted only when needed;
 *                 {{#shell}}...{{/shell}} quotes what the block renders as one word
 *   {{dotenv x}}  a value of a .env file, as python-dotenv reads it
 *   {{md x}}      Markdown text; {{mdCode x}} an inline code span
 */
export const hbs = Handlebars.create();

/** ruff's line length in generated projects (pyproject.toml's [tool.ruff]). */
const PYTHON_LINE_LENGTH = 100;

/** Columns a line takes as ruff measures it: East Asian wide characters and emoji take two. */
const columns = (text: string) =>
  [...text].reduce((sum, char) => sum + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u.test(char) ? 2 : 1), 0);

/** `name = literal`, parenthesized on lines of its own when only that makes it fit, as ruff format writes it. */
function pythonAssignment(name: string, literal: string): string {
  const line = `${name} = ${literal}`;
  const wrapped = `    ${literal}`;
  return columns(line) <= PYTHON_LINE_LENGTH || columns(wrapped) > PYTHON_LINE_LENGTH ? line : `${name} = (\n${wrapped}\n)`;
}

/** `name = {...}` of string literals: on one line when it fits, else one item a line, as ruff format writes a set. */
function pythonSet(name: string, items: string[]): string {
  if (items.length === 0) return `${name}: set[str] = set()`;
  const literals = items.map((item) => pythonString(item));
  const line = `${name} = {${literals.join(", ")}}`;
  return columns(line) <= PYTHON_LINE_LENGTH ? line : `${name} = {\n${literals.map((literal) => `    ${literal},\n`).join("")}}`;
}

const HELPERS: Record<string, Handlebars.HelperDelegate> = {
  toml: (v: unknown) => tomlString(String(v ?? "")),
  py: (v: unknown) => pythonString(v === null || v === undefined ? null : String(v)),
  pyAssign: (name: unknown, v: unknown) => pythonAssignment(String(name), pythonString(v === null || v === undefined ? null : String(v))),
  pySet: (name: unknown, list: unknown) => pythonSet(String(name), Array.isArray(list) ? list.map(String) : []),
  json: (v: unknown) => jsonValue(v),
  shell: function (this: unknown, ...args: unknown[]) {
    const options = args.at(-1) as Handlebars.HelperOptions;
    return shellWord(args.length === 1 ? options.fn(this) : String(args[0] ?? ""));
  },
  dotenv: (v: unknown) => dotenvValue(String(v ?? "")),
  md: (v: unknown) => markdownText(String(v ?? "")),
  mdCode: (v: unknown) => markdownCode(String(v ?? "")),
  eq: (a: unknown, b: unknown) => a === b,
  or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
  and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
  not: (v: unknown) => !v,
  sorted: (list: unknown) => (Array.isArray(list) ? [...list].sort() : []),
};
hbs.registerHelper(HELPERS);

/**
 * How every template is compiled, at build time (scripts/build.mjs) as in development.
 * `strict` makes a misspelt variable an error, not an empty string; with the helpers known
 * up front, Handlebars calls them directly instead of checking each name at render time.
 */
export const COMPILE_OPTIONS = {
  noEscape: true,
  strict: true,
  knownHelpersOnly: true,
  knownHelpers: Object.fromEntries(Object.keys(HELPERS).map((name) => [name, true])),
} satisfies CompileOptions;

const cache = new Map<string, HandlebarsTemplateDelegate>();

/** Render one template source. */
export function render(source: string, context: object, key = source): string {
  let template = cache.get(key);
  if (!template) {
    template = hbs.compile(source, COMPILE_OPTIONS);
    cache.set(key, template);
  }
  return template(context);
}
