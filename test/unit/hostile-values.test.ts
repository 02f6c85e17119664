import { execFileSync } from "node:child_process";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseArgs } from "../../src/args.js";
import { resolveDeployOptions } from "../../src/deploy/options.js";
import { UserError } from "../../src/errors.js";
import type { ProjectOptions } from "../../src/options.js";
import { planProject, type Plan } from "../../src/plan.js";
import { resolveOptions } from "../../src/resolve.js";
import { ACCEPTED_URLS, HOSTILE_DIRECTORIES, HOSTILE_TEXT, REFUSED_MODELS, REFUSED_URLS, cliCheck, keptModel } from "../support/hostile.js";

const BASE: Partial<ProjectOptions> = {
  directory: "hostile-app",
  provider: "custom",
  baseUrl: "https://llm.example/v1",
  model: "m",
  features: { gateway: true, mcp: true, "github-actions": true },
};

async function accepted(given: Partial<ProjectOptions>): Promise<ProjectOptions> {
  const result = await cliCheck({ ...BASE, ...given });
  if (typeof result === "string") throw new Error(`the CLI refused ${JSON.stringify(given)}: ${result}`);
  return result;
}

const file = (plan: Plan, name: string) => {
  const found = plan.files.find((f) => f.path === name);
  if (!found) throw new Error(`${name} is not in the plan`);
  return found.content;
};

/** The fenced blocks of a Markdown file with the given info string. */
const fenced = (markdown: string, info: string) => [...markdown.matchAll(new RegExp(`^\`\`\`${info}\\n([\\s\\S]*?)^\`\`\`$`, "gm"))].map((m) => m[1]!);

/**
 * Runs a snippet in a real bash, with `command` replaced by a function that prints its
 * arguments: the words the snippet hands to it, exactly as bash parsed them.
 */
function wordsOf(snippet: string, command: string): string[] {
  execFileSync("bash", ["-n", "-c", snippet], { env: { PATH: process.env.PATH } });
  const output = execFileSync("bash", ["-c", `${command}() { printf '%s\\0' "$@"; }\n${snippet}`], { encoding: "utf8", env: { PATH: process.env.PATH } });
  return output.split("\0").slice(0, -1);
}

/** Python source evaluated by a real python3: `ast.parse` of each file, then the literal each expression names. */
function pythonLiterals(sources: { source: string; assignment?: string; keyword?: string }[]): unknown[] {
  const script = `
import ast, json, sys
out = []
for item in json.load(sys.stdin):
    tree = ast.parse(item["source"])
    for node in ast.walk(tree):
        if item.get("assignment") and isinstance(node, ast.Assign) and any(getattr(t, "id", None) == item["assignment"] for t in node.targets):
            out.append(ast.literal_eval(node.value)); break
        if item.get("keyword") and isinstance(node, ast.keyword) and node.arg == item["keyword"]:
            out.append(ast.literal_eval(node.value)); break
    else:
        out.append({"missing": True})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync("python3", ["-c", script], { input: JSON.stringify(sources), encoding: "utf8" }));
}

/** The text of a CommonMark code span that starts the string, or undefined. */
function codeSpan(text: string): string | undefined {
  const open = /^`+/.exec(text)?.[0];
  if (!open) return undefined;
  const close = new RegExp(`(?<!\`)${open}(?!\`)`).exec(text.slice(open.length));
  if (!close) return undefined;
  const inner = text.slice(open.length, open.length + close.index);
  return inner.startsWith(" ") && inner.endsWith(" ") && inner.trim() !== "" ? inner.slice(1, -1) : inner;
}

/** Markdown text with no character left that would start markup, read back as plain text. */
function markdownPlain(text: string): string {
  const unescaped = text.replace(/\\([!-/:-@[-`{-~])/g, "");
  // An underscore between two letters or digits cannot start emphasis (CommonMark's flanking rules).
  expect(unescaped.replace(/(?<=[\p{L}\p{N}])_(?=[\p{L}\p{N}])/gu, ""), text).not.toMatch(/[`*_<>&|~#[\]\\]/);
  return text.replace(/\\([!-/:-@[-`{-~])/g, "$1");
}

describe("hostile values", () => {
  it("the CLI refuses model ids with control characters, line breaks of any kind, or too long, in one line", async () => {
    for (const model of REFUSED_MODELS) {
      const result = await cliCheck({ ...BASE, model });
      expect(result, JSON.stringify(model)).toBe("the model id must be 1-200 printable characters");
    }
  });

  it("the CLI refuses base URLs that are not http(s) with a host, or hold whitespace or a credential, in one line", async () => {
    for (const baseUrl of REFUSED_URLS) {
      const result = await cliCheck({ ...BASE, baseUrl });
      expect(typeof result, JSON.stringify(baseUrl)).toBe("string");
      expect(result as string).not.toContain("\n");
    }
  });

  it("a pasted base URL keeps no surrounding whitespace and a lower-case scheme", async () => {
    for (const [typed, kept] of ACCEPTED_URLS) {
      expect((await accepted({ baseUrl: typed })).baseUrl, JSON.stringify(typed)).toBe(kept);
    }
  });

  it(`each of ${HOSTILE_TEXT.length} hostile model ids lands intact in TOML, Python, the shell snippets, the re-create command and Markdown`, async () => {
    const python: { source: string; assignment?: string; keyword?: string }[] = [];
    for (const typed of HOSTILE_TEXT) {
      const options = await accepted({ model: typed });
      const model = keptModel(typed);
      expect(options.model).toBe(model);
      const plan = planProject(options);
      const where = JSON.stringify(model);

      // TOML: fly.toml's [env], as Fly.io passes it to the app.
      expect((parseToml(file(plan, "fly.toml")) as { env: Record<string, string> }).env.MODEL, where).toBe(model);

      // Shell: the README's settings block, run by bash.
      const readme = file(plan, "README.md");
      const settings = fenced(readme, "sh").find((block) => block.startsWith("PROVIDER="))!;
      expect(wordsOf(`${settings}\nshow "$MODEL" "$BASE_URL"`, "show"), where).toEqual([model, "https://llm.example/v1"]);

      // Shell and JSON: the gateway's curl example sends the model as typed.
      const curl = fenced(file(plan, "docs/gateway.md"), "sh").find((block) => block.startsWith("curl"))!;
      const args = wordsOf(curl, "curl");
      expect(JSON.parse(args[args.indexOf("-d") + 1]!).model, where).toBe(model);

      // Shell: the re-create command, parsed back by the CLI's own parser, gives the same options.
      const words = wordsOf(plan.command, "npx");
      const again = await resolveOptions(parseArgs(words.slice(1)).given, { kind: "defaults" });
      expect(again, where).toEqual(options);

      // Markdown: the README shows the re-create command as one code span, exactly.
      const recreate = readme.split("\n").find((line) => line.startsWith("Re-create this project with: "))!;
      expect(codeSpan(recreate.slice("Re-create this project with: ".length)), where).toBe(plan.command);

      python.push({ source: file(plan, "app/config.py"), assignment: "DEFAULT_MODEL" });
      python.push({ source: fenced(file(plan, "docs/gateway.md"), "python")[0]!, keyword: "model" });
    }
    // Python: config.py's default and the gateway's openai example, read by python3's own parser.
    const literals = pythonLiterals(python);
    expect(literals).toEqual(HOSTILE_TEXT.map(keptModel).flatMap((model) => [model, model]));
  });

  it(`each of ${ACCEPTED_URLS.length} base URLs the CLI accepts lands as kept in TOML, Python and the shell`, async () => {
    const python: { source: string; assignment: string }[] = [];
    for (const [typed, kept] of ACCEPTED_URLS) {
      const plan = planProject(await accepted({ baseUrl: typed }));
      expect((parseToml(file(plan, "fly.toml")) as { env: Record<string, string> }).env.BASE_URL).toBe(kept);
      const settings = fenced(file(plan, "README.md"), "sh").find((block) => block.startsWith("PROVIDER="))!;
      expect(wordsOf(`${settings}\nshow "$BASE_URL"`, "show")).toEqual([kept]);
      const again = await resolveOptions(parseArgs(wordsOf(plan.command, "npx").slice(1)).given, { kind: "defaults" });
      expect(again.baseUrl).toBe(kept);
      python.push({ source: file(plan, "app/config.py"), assignment: "DEFAULT_BASE_URL" });
    }
    expect(pythonLiterals(python)).toEqual(ACCEPTED_URLS.map(([, kept]) => kept));
  });

  it(`each of ${HOSTILE_DIRECTORIES.length} hostile directory names lands intact in the title, the commands, cd, TOML and YAML`, async () => {
    for (const name of HOSTILE_DIRECTORIES) {
      const options = await accepted({ directory: name });
      const plan = planProject(options);
      const where = JSON.stringify(name);
      expect(options.name, where).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);

      // Markdown: the README's title is the directory's name, with nothing read as markup.
      const title = file(plan, "README.md").split("\n")[0]!;
      expect(markdownPlain(title.slice(2)), where).toBe(name);

      // Shell: `cd` reaches the directory (never read as an option), and the command re-creates it.
      const cd = plan.nextSteps[0]!;
      const [target] = wordsOf(cd, "cd");
      expect(target!.startsWith("-"), where).toBe(false);
      expect(path.resolve(target!), where).toBe(path.resolve(name));
      const again = await resolveOptions(parseArgs(wordsOf(plan.command, "npx").slice(1)).given, { kind: "defaults" });
      expect(again, where).toEqual(options);

      // TOML and YAML: fly.toml (its comment names the directory), pyproject.toml and the workflow parse.
      expect((parseToml(file(plan, "fly.toml")) as { app: string }).app).toBe(options.name);
      expect((parseToml(file(plan, "pyproject.toml")) as { project: { name: string } }).project.name).toBe(options.name);
      for (const workflow of plan.files.filter((f) => f.path.startsWith(".github/") && f.path.endsWith(".yml"))) {
        expect(() => parseYaml(workflow.content), workflow.path).not.toThrow();
      }
    }
  });

  it("every hostile value is refused in one line as an app name, a region, an org or extra regions", async () => {
    const oneLine = (error: unknown) => error instanceof UserError && !error.message.includes("\n");
    for (const value of HOSTILE_TEXT) {
      const where = JSON.stringify(value);
      for (const given of [{ name: value }, { region: value }]) {
        const result = await cliCheck({ ...BASE, ...given });
        expect(typeof result === "string" && !result.includes("\n"), `${Object.keys(given)[0]} ${where}`).toBe(true);
      }
      for (const given of [{ org: value }, { regions: value }]) {
        let thrown: unknown;
        try {
          await resolveDeployOptions(given);
        } catch (error) {
          thrown = error;
        }
        expect(oneLine(thrown), `${Object.keys(given)[0]} ${where}`).toBe(true);
      }
    }
  });

  it("directory names refused: empty, control characters or line breaks", async () => {
    for (const directory of ["", "  ", "a\nb", "del\u007f", "nel\u0085", "ls\u2028"]) {
      expect(await cliCheck({ ...BASE, directory }), JSON.stringify(directory)).toBe("the directory name is empty or has control characters");
    }
  });

  it("app names derived from non-ASCII directories are transliterated, not dropped", async () => {
    const names = await Promise.all(["ünï", "Straße", "Ørsted æble", "Łódź", "Crème brûlée", "模型"].map(async (directory) => (await accepted({ directory })).name));
    expect(names).toEqual(["uni", "strasse", "orsted-aeble", "lodz", "creme-brulee", "fly-fastapi-app"]);
  });
});
