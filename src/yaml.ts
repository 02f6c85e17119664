/**
 * YAML for the generated GitHub Actions workflow, without the `yaml` library (115 KB, a fifth
 * of what a default run used to load and parse, for one small file). It covers what a
 * workflow needs: block mappings and sequences of strings, integers, booleans and null, and a
 * comment at the top. For those it writes exactly what `yaml` writes with
 * `{ lineWidth: 0, nullStr: "" }` (test/unit/yaml.test.ts compares the two), and it throws on
 * anything it would not write the same way, so a new value can never come out differently.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

// What a plain scalar cannot be (yaml's stringifyString): an indicator first, "- " or "? ",
// ": " or " #" inside, a space, tab or colon at the end; a line starting a document; a control
// character; or anything the core schema would read as null, a boolean or a number.
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
const DOCUMENT_MARKER = /^(%|---|\.\.\.)/m;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
const OTHER_TYPES = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];

const unsupported = (what: string, value: unknown): never => {
  throw new Error(`src/yaml.ts does not write ${what} as the yaml library would: ${JSON.stringify(value)}`);
};

const isPlain = (value: string) =>
  !value.includes("\n") && !NOT_PLAIN.test(value) && !DOCUMENT_MARKER.test(value) && !CONTROL.test(value) && !OTHER_TYPES.some((re) => re.test(value));

/** A key, or a one-line string: plain when it can be; double-quoted when nothing needs escaping. */
function inline(value: string, what = "the string"): string {
  if (isPlain(value)) return value;
  if (!value.includes("\n") && /^[ -~]*$/.test(value) && !/["'\\]/.test(value) && !DOCUMENT_MARKER.test(value)) return `"${value}"`;
  return unsupported(what, value);
}

/** A value after `key:` or `- `: " scalar", or " |" and its indented lines. */
function scalar(value: YamlValue, indent: string): string {
  if (value === null) return "";
  if (typeof value === "boolean") return ` ${value}`;
  if (typeof value === "number") return Number.isSafeInteger(value) ? ` ${value}` : unsupported("the number", value);
  if (typeof value !== "string") return unsupported("the value", value);
  if (!value.includes("\n")) return ` ${inline(value)}`;
  // A block literal, for lines that end in one newline, with no blank or space-led first line.
  const lines = value.slice(0, -1).split("\n");
  const clean = value.endsWith("\n") && !value.endsWith("\n\n") && !/^[ \t\n]/.test(value) && !CONTROL.test(value) && lines.every((line) => line !== "");
  if (!clean) return unsupported("the multi-line string", value);
  return ` |\n${lines.map((line) => `${indent}${line}`).join("\n")}`;
}

const isCollection = (value: YamlValue): value is YamlValue[] | { [key: string]: YamlValue } => typeof value === "object" && value !== null;

function mapping(map: { [key: string]: YamlValue }, indent: string): string[] {
  const entries = Object.entries(map);
  if (entries.length === 0) unsupported("an empty mapping", map);
  return entries.flatMap(([key, value]) => {
    const head = `${indent}${inline(key, "the key")}:`;
    if (!isCollection(value)) return [`${head}${scalar(value, `${indent}  `)}`];
    return [head, ...(Array.isArray(value) ? sequence(value, `${indent}  `) : mapping(value, `${indent}  `))];
  });
}

function sequence(items: YamlValue[], indent: string): string[] {
  if (items.length === 0) unsupported("an empty sequence", items);
  return items.flatMap((item) => {
    if (Array.isArray(item)) return unsupported("a sequence in a sequence", item);
    if (!isCollection(item)) {
      if (typeof item === "string" && item.includes("\n")) return unsupported("a multi-line string in a sequence", item);
      return [`${indent}-${scalar(item, `${indent}  `)}`];
    }
    // A mapping in a sequence: its first entry on the dash's line, the others under it.
    const [first, ...rest] = mapping(item, `${indent}  `);
    return [`${indent}- ${first!.slice(indent.length + 2)}`, ...rest];
  });
}

/** The document: `comment` (each line after a "#") and a blank line, then the mapping. */
export function toYaml(map: { [key: string]: YamlValue }, comment?: string): string {
  const lines = mapping(map, "");
  if (comment !== undefined) {
    const commentLines = comment.split("\n");
    if (commentLines.some((line) => line === "" || line === " " || CONTROL.test(line))) unsupported("the comment", comment);
    lines.unshift(...commentLines.map((line) => `#${line}`), "");
  }
  return `${lines.join("\n")}\n`;
}
