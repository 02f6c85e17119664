/**
 * Secrets on `flyctl secrets import`'s stdin, written so that flyctl stores each value byte
 * for byte. flyctl reads stdin like a dotenv file (internal/command/secrets/parser.go): leading
 * spaces and one pair of surrounding quotes are stripped, an unquoted `#` starts a comment
 * (whether a `#` is quoted is decided by counting the `"` before it), a value opening with
 * `"""` runs on over the following lines, and nothing is unescaped. So a value is wrapped in
 * the quotes that survive those rules; only what no line can carry is refused.
 */
import { DeployError } from "./errors.js";

/** bufio.Scanner's longest line (its MaxScanTokenSize): flyctl silently stops reading at a longer one. */
const MAX_LINE_BYTES = 64 * 1024;

/** Why no stdin line can carry `value`, or undefined when one can. */
export function unstorableSecret(value: string): string | undefined {
  if (value === "") return "it is empty";
  if (/[\r\n]/.test(value)) return "it has a line break, which flyctl secrets import cannot store";
  return undefined;
}

/** The quoting of `value` that flyctl's parser turns back into exactly `value`. */
function quoted(value: string): string {
  const hash = value.indexOf("#");
  const quotesBeforeHash = hash < 0 ? 0 : value.slice(0, hash).split('"').length - 1;
  // The parser cuts at the first `#` when an even number of `"` precede it on the line: in
  // '…' the value's own quotes are all there are, in "…" and """…""" one or three more.
  if (hash >= 0 && quotesBeforeHash % 2 === 1) return `'${value}'`;
  // "…" would open with """ (a multi-line value) when the value starts with a quote pair or is one quote.
  const double = `"${value}"`;
  return double.startsWith('"""') ? `"""${value}"""` : double;
}

/** One `NAME=value` line for `secrets import`, or a DeployError naming the secret (never its value). */
export function secretLine(name: string, value: string): string {
  const problem = unstorableSecret(value);
  if (problem) throw new DeployError("preflight", `the secret ${name} cannot be set: ${problem}`, `give ${name} a value on one line`);
  const line = `${name}=${quoted(value)}`;
  if (Buffer.byteLength(line) + 1 > MAX_LINE_BYTES) {
    throw new DeployError("preflight", `the secret ${name} cannot be set: it is longer than the 64 KiB line flyctl secrets import reads`, `shorten ${name}, or store it elsewhere and give the app its location`);
  }
  return `${line}\n`;
}

/** The stdin of `flyctl secrets import` for these secrets. */
export function secretsInput(secrets: readonly { name: string; value: string }[]): string {
  return secrets.map(({ name, value }) => secretLine(name, value)).join("");
}
