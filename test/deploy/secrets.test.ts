import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { DeployError } from "../../src/deploy/errors.js";
import { secretLine, secretsInput } from "../../src/deploy/secrets.js";
import { parseSecrets } from "../fixtures/fake-flyctl/secrets-parser.mjs";
import { KEY, runCli, storedSecrets, useFakeApp, workspace, type Workspace } from "./helpers.js";

/** Values that flyctl's parser changes when written raw (`NAME=value`). */
const VALUES: Record<string, string> = {
  hash: "sk-abc#def",
  "hash after a space": "sk-abc #def",
  "leading hash": "#sk",
  "double quotes": '"quoted"',
  "one double quote": '"',
  "two double quotes": '""',
  "a quote pair opening the value": '""x',
  "single quotes": "'quoted'",
  "one single quote": "'",
  "odd quotes before a hash": 'a"b#c',
  "even quotes before a hash": 'a"b"c#d',
  "quote, hash, single quote": `'"#'`,
  backslash: "C:\\path\\n\\t",
  "leading and trailing spaces": "  spaced  ",
  "triple quotes": '"""',
  "triple quotes around": '"""inner"""',
  "triple quotes opening": '"""abc',
  equals: "a=b==c=",
  unicode: "clé-🔑-ключ-鍵",
  "4 KB": "k".repeat(2048) + "#" + "\"'".repeat(1023) + "z",
};

describe("flyctl's secrets parser (internal/command/secrets/parser.go), as the fake uses it", () => {
  it("changes raw values the way flyctl does", () => {
    expect(parseSecrets("K=sk-abc#def\n").secrets).toEqual({ K: "sk-abc" });
    expect(parseSecrets('K="quoted"\nL=\'single\'\nM=   spaced\n').secrets).toEqual({ K: "quoted", L: "single", M: "spaced" });
    expect(parseSecrets('K="a#b"\n').secrets).toEqual({ K: "a#b" });
    expect(parseSecrets("# comment\n\nK=v\r\n").secrets).toEqual({ K: "v" });
    // A value opening with """ swallows the lines after it; what they set is never set.
    expect(parseSecrets('A="""x\nB=secret\n').secrets).toEqual({});
    expect(parseSecrets('A="""x\nB=y"""\nC=z\n').secrets).toEqual({ A: "x\nB=y", C: "z" });
    expect(parseSecrets("no-equals\n").error).toContain("NAME=VALUE");
    expect(parseSecrets('K="\n').panic).toContain("slice bounds out of range");
  });

  it("stops at a line longer than 64 KiB, keeping what came before (as bufio.Scanner does)", () => {
    expect(parseSecrets(`A=a\nB=${"b".repeat(70_000)}\nC=c\n`).secrets).toEqual({ A: "a" });
  });
});

describe("the deploy's encoding of secrets", () => {
  it.each(Object.entries(VALUES))("stores %s byte for byte", (_label, value) => {
    const input = secretsInput([{ name: "SECRET", value }, { name: "AFTER", value: "next" }]);
    expect(parseSecrets(input)).toEqual({ secrets: { SECRET: value, AFTER: "next" } });
  });

  it("writes a plain key in double quotes", () => {
    expect(secretLine("GROQ_API_KEY", KEY)).toBe(`GROQ_API_KEY="${KEY}"\n`);
  });

  it.each([
    ["a line break", "line1\nline2", "it has a line break"],
    ["a carriage return", "abc\r", "it has a line break"],
    ["nothing", "", "it is empty"],
    ["more than 64 KiB", "x".repeat(70_000), "longer than the 64 KiB line"],
  ])("refuses a value with %s in one line naming the secret, never the value", (_label, value, reason) => {
    let error: unknown;
    try {
      secretLine("PRIVATE_TOKEN", value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DeployError);
    const { message, hint, step } = error as DeployError;
    expect(step).toBe("preflight");
    expect(message).toContain("PRIVATE_TOKEN");
    expect(message).toContain(reason);
    expect(message).not.toContain("\n");
    if (value) expect(message + (hint ?? "")).not.toContain(value.slice(0, 5));
  });
});

describe("secrets through the deploy and the fake flyctl", () => {
  const app = useFakeApp();
  let ws: Workspace;
  afterEach(() => ws?.remove());

  const digest = (value: string) => createHash("sha256").update(value).digest("hex").slice(0, 16);

  it("stores a key with #, quotes, spaces and unicode exactly as given", async () => {
    ws = await workspace();
    const key = ` gsk-"a#b'c\\d=é """ `;
    const result = await runCli(ws, ["deploy", "my-api", "--json"], ws.env({}, { ...app.env, GROQ_API_KEY: key }));
    expect(result.exitCode, result.stderr).toBe(0);
    const call = (await ws.calls()).find((c) => c.argv[0] === "secrets" && c.argv[1] === "import");
    expect(storedSecrets(call)).toEqual({ GROQ_API_KEY: key });
    const state = JSON.parse(await fs.readFile(ws.state, "utf8"));
    expect(state.apps["my-api"].secrets.GROQ_API_KEY).toBe(digest(key));
  });

  it("refuses a key with a line break in preflight, before flyctl changes anything", async () => {
    ws = await workspace();
    const result = await runCli(ws, ["deploy", "my-api"], ws.env({}, { ...app.env, GROQ_API_KEY: "gsk-first\ngsk-second" }));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("GROQ_API_KEY");
    expect(result.stderr).not.toContain("gsk-first");
    const mutating = (await ws.calls()).filter((c) => ["apps create", "secrets import", "deploy"].some((cmd) => c.argv.join(" ").startsWith(cmd)));
    expect(mutating).toEqual([]);
  });
});
