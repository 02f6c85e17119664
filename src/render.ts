import Handlebars from "handlebars";

/**
 * Handlebars with escaping per target format instead of HTML escaping.
 * Templates print any value that a user typed through one of these helpers:
 *   {{toml x}}  a TOML basic string, quotes included
 *   {{py x}}    a Python string literal (or None for null), quotes included
 *   {{json x}}  JSON (also valid YAML and a Python literal for plain strings)
 *   {{shell x}} a POSIX shell word, quoted only when needed
 */
export const hbs = Handlebars.create();

const CONTROL = /[\u0000-\u001f\u007f]/g;
const hex4 = (c: string) => c.charCodeAt(0).toString(16).padStart(4, "0");

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

export function shellWord(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const HELPERS: Record<string, Handlebars.HelperDelegate> = {
  toml: (v: unknown) => tomlString(String(v ?? "")),
  py: (v: unknown) => pythonString(v === null || v === undefined ? null : String(v)),
  json: (v: unknown) => JSON.stringify(v ?? null),
  shell: (v: unknown) => shellWord(String(v ?? "")),
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
