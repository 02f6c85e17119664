import { execa } from "execa";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import type { ProjectOptions } from "../../src/options.js";
import { comparePaths, planProject, type Plan } from "../../src/plan.js";
import { PROVIDERS } from "../../src/providers.js";
import { resolveOptions } from "../../src/resolve.js";

const planFor = async (given: Partial<ProjectOptions>) =>
  planProject(await resolveOptions({ directory: "my-api", install: false, git: false, ...given }, { kind: "defaults" }));

const file = (plan: Plan, path: string) => {
  const found = plan.files.find((f) => f.path === path);
  if (!found) throw new Error(`${path} is not in the plan`);
  return found.content;
};

const matrix: Partial<ProjectOptions>[] = [
  ...PROVIDERS.filter((p) => p.id !== "custom").map((p) => ({ provider: p.id })),
  { provider: "custom", baseUrl: "https://my-vllm.modal.run/v1", model: "Qwen/Qwen3-8B" },
  { provider: "groq", pythonTool: "pip" as const, region: "syd" },
];

describe("the plan", () => {
  it("writes the files of the layout every project has", async () => {
    const plan = await planFor({});
    expect(plan.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        ".dockerignore",
        ".env.example",
        ".gitignore",
        "Dockerfile",
        "README.md",
        "app/__init__.py",
        "app/config.py",
        "app/main.py",
        "fly.toml",
        "pyproject.toml",
      ]),
    );
    expect(plan.files.some((f) => f.path.startsWith("tests/test_"))).toBe(true);
  });

  it("is a pure function of the options", async () => {
    expect(await planFor({ provider: "groq" })).toEqual(await planFor({ provider: "groq" }));
  });

  it.each(matrix)("renders cleanly for %j", async (given) => {
    const plan = await planFor(given);
    for (const { path, content } of plan.files) {
      // An unrendered Handlebars tag. Python's nested dicts may end in "}}", f-strings
      // escape braces as "{{{x}}}", and GitHub Actions expressions are "${{ ... }}".
      expect(content.replace(/\$\{\{[^{}]*\}\}/g, ""), path).not.toMatch(/(?<!\{)\{\{(?!\{)[#/^!>]?\s*[\w.@(]/);
      expect(content, `${path}: trailing whitespace`).not.toMatch(/[ \t]+$/m);
      // PEP 8 puts two blank lines between top-level definitions; nothing needs more.
      const blankRun = path.endsWith(".py") ? /\n\n\n\n/ : /\n\n\n/;
      expect(content, `${path}: runs of blank lines`).not.toMatch(blankRun);
      expect(content.endsWith("\n"), `${path}: ends with a newline`).toBe(true);
      expect(content.startsWith("\n"), `${path}: starts with a blank line`).toBe(false);
    }
    const fly = parseToml(file(plan, "fly.toml")) as any;
    expect(fly.app).toBe("my-api");
    expect(fly.primary_region).toBe(given.region ?? "iad");
    const pyproject = parseToml(file(plan, "pyproject.toml")) as any;
    expect(pyproject.project.name).toBe("my-api");
    expect(pyproject.project.dependencies.join(" ")).toContain("fastapi==");
  });

  it("names the provider's key in .env.example but never a value", async () => {
    const plan = await planFor({ provider: "groq" });
    const env = file(plan, ".env.example");
    expect(env).toMatch(/^GROQ_API_KEY=$/m);
    const fly = file(plan, "fly.toml");
    expect(fly).not.toMatch(/API_KEY/);
  });

  it("writes the re-create command into the README", async () => {
    const plan = await planFor({ provider: "fireworks", region: "ams" });
    // Every optional feature is spelt out as --<id> or --no-<id> between --python-tool and --git;
    // the directory comes last, after --, so no directory name is read as an option.
    expect(file(plan, "README.md")).toMatch(
      /npx create-fly-fastapi@0\.1\.0 --name my-api --provider fireworks --base-url https:\/\/api\.fireworks\.ai\/inference\/v1 --model accounts\/fireworks\/models\/llama-v3p3-70b-instruct --region ams --python-tool uv (--(no-)?[a-z-]+ )*--no-git --no-install --yes -- my-api/,
    );
  });

  it("escapes hostile values for TOML and Python alike", async () => {
    const model = `evil"model\\'s""" \u00e9`;
    const baseUrl = `https://x.test/v1?q="a"&b='c'`;
    const plan = await planFor({ provider: "custom", baseUrl, model });
    const fly = parseToml(file(plan, "fly.toml")) as any;
    expect(JSON.stringify(fly)).toContain(JSON.stringify(model).slice(1, -1));
    const sources = plan.files.filter((f) => f.path.endsWith(".py"));
    const check = `import ast, json, sys\nfor name, src in json.load(sys.stdin).items():\n    ast.parse(src, name)\nprint("ok")`;
    const result = await execa("python3", ["-c", check], {
      input: JSON.stringify(Object.fromEntries(sources.map((s) => [s.path, s.content]))),
      reject: false,
    });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("ok");
    const allText = plan.files.map((f) => f.content).join("\n");
    expect(allText).toContain(model.includes('"') ? 'evil\\"model' : model);
  });

  it("uses uv's lockfile flow or pip's extras to match --python-tool", async () => {
    const uv = await planFor({ pythonTool: "uv" });
    expect(file(uv, "Dockerfile")).toContain("uv sync --locked");
    expect(parseToml(file(uv, "pyproject.toml"))).toHaveProperty("dependency-groups.dev");
    const pip = await planFor({ pythonTool: "pip" });
    expect(file(pip, "Dockerfile")).not.toContain("uv ");
    expect(parseToml(file(pip, "pyproject.toml"))).toHaveProperty("project.optional-dependencies.dev");
  });
});

describe("packageNameFor", () => {
  it("keeps the app name unless the project would depend on itself", async () => {
    const { packageNameFor } = await import("../../src/plan.js");
    expect(packageNameFor("my-api", ["fastapi==1", "uvicorn[standard]==1"])).toBe("my-api");
    expect(packageNameFor("openai", ["openai==3.57.0"])).toBe("openai-app");
    expect(packageNameFor("pydantic-settings", ["pydantic_settings==2"])).toBe("pydantic-settings-app");
    expect(packageNameFor("uvicorn", ["uvicorn[standard]==0.54.0"])).toBe("uvicorn-app");
  });
});

describe("comparePaths", () => {
  const localeOrder = (a: string, b: string) => Math.sign(a.localeCompare(b, "en"));

  it("orders paths as localeCompare does, without loading ICU's collation", () => {
    // Random names over the characters of paths, short and from a small alphabet too, so
    // that prefixes, ties and case-only differences come up often.
    let seed = 1;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const name = (alphabet: string) => Array.from({ length: random(8) }, () => alphabet[random(alphabet.length)]).join("");
    for (let i = 0; i < 50_000; i++) {
      const alphabet = i % 2 ? "_-./0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" : "aAbB._-/0";
      const a = name(alphabet);
      const b = i % 3 ? name(alphabet) : a.slice(0, 3) + name(alphabet);
      expect(comparePaths(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(localeOrder(a, b));
    }
  });

  it("sorts every plan's files as localeCompare would", async () => {
    for (const given of [...matrix, { features: Object.fromEntries(["ui", "github-actions", "gateway", "tools", "mcp", "ratelimit", "auth", "observability"].map((id) => [id, true])) }]) {
      const paths = (await planFor(given)).files.map((f) => f.path);
      expect(paths).toEqual([...paths].sort((a, b) => a.localeCompare(b, "en")));
    }
  });

  it("falls back to localeCompare for other characters", () => {
    expect(comparePaths("é", "f")).toBe(Math.sign("é".localeCompare("f")));
    expect(comparePaths("a b", "a-b")).toBe(Math.sign("a b".localeCompare("a-b")));
  });
});
