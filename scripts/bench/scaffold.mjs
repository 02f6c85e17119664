// Scaffolder wall time: ours against create-vite, sv and create-t3-app, with `node -e 0` as the floor.
import fs from "node:fs";
import path from "node:path";
import { BENCH_CACHE, CLI, REPO_ROOT, duBytes, log, median, must, run, summary, tempDir } from "./util.mjs";

/** The other scaffolders, pinned so figures stay comparable between runs. */
export const COMPETITORS = {
  "create-vite": "9.3.0",
  sv: "0.17.1",
  "create-t3-app": "7.40.0",
};

const TOOLS_DIR = path.join(BENCH_CACHE, "tools");

/** Installs the competitors from npm into .cache/bench/tools once (re-done when the pins change). */
export function ensureCompetitors() {
  const marker = path.join(TOOLS_DIR, "installed.json");
  const wanted = JSON.stringify(COMPETITORS);
  if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === wanted) return;
  log(`installing ${Object.entries(COMPETITORS).map(([n, v]) => `${n}@${v}`).join(", ")} into .cache/bench/tools`);
  fs.rmSync(TOOLS_DIR, { recursive: true, force: true });
  fs.mkdirSync(TOOLS_DIR, { recursive: true });
  fs.writeFileSync(path.join(TOOLS_DIR, "package.json"), JSON.stringify({ private: true }));
  must(
    "npm",
    ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact", ...Object.entries(COMPETITORS).map(([n, v]) => `${n}@${v}`)],
    { cwd: TOOLS_DIR, timeoutMs: 300_000 },
  );
  fs.writeFileSync(marker, wanted);
}

/** The JS file a package's bin points to, so every tool runs as `node <file>` with no shim in between. */
function binFile(pkg, bin = pkg) {
  const dir = path.join(TOOLS_DIR, "node_modules", pkg);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const rel = typeof manifest.bin === "string" ? manifest.bin : manifest.bin[bin];
  return path.join(dir, rel);
}

/**
 * Each tool's non-interactive invocation, read from its --help. `dir` is the target directory.
 * All skip dependency installation and git.
 */
export function scaffolders({ quick }) {
  const node = process.execPath;
  const list = [
    { id: "node -e 0", floor: true, argv: () => [node, "-e", "0"] },
    { id: "create-fly-fastapi", ours: true, argv: (dir) => [node, CLI, dir, "--yes", "--no-install", "--no-git"] },
    {
      id: "create-vite",
      flags: "--template vanilla-ts --no-interactive --no-immediate",
      argv: (dir) => [node, binFile("create-vite"), dir, "--template", "vanilla-ts", "--no-interactive", "--no-immediate"],
    },
  ];
  if (!quick) {
    list.push(
      {
        id: "sv create",
        flags: "create --template minimal --types ts --no-add-ons --no-install",
        argv: (dir) => [node, binFile("sv"), "create", dir, "--template", "minimal", "--types", "ts", "--no-add-ons", "--no-install"],
      },
      {
        id: "create-t3-app",
        flags: "--CI --noGit --noInstall",
        argv: (dir) => [node, binFile("create-t3-app"), dir, "--CI", "--noGit", "--noInstall"],
      },
    );
  }
  return list;
}

/** Environment for the scaffolders: not CI (create-t3-app gets --CI explicitly), no colours. */
function scaffoldEnv() {
  const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };
  delete env.CI;
  return env;
}

/**
 * Runs every tool `runs` times, round-robin (so drift in machine load hits all alike), after
 * `warmup` discarded rounds. The time is from spawn to exit; with install and git off, the last
 * file is written just before exit.
 */
export function timeScaffolders({ quick, runs, warmup, deadline, minRuns = Math.min(runs, quick ? 5 : 10) }) {
  const tools = scaffolders({ quick });
  const env = scaffoldEnv();
  const times = Object.fromEntries(tools.map((t) => [t.id, []]));
  const outputs = {};
  const parent = tempDir("scaffold");
  let round = 0;
  for (let i = 0; i < warmup + runs; i++) {
    if (Date.now() > deadline && i >= warmup + minRuns) {
      log(`scaffolder timing stopped at the time limit after ${i - warmup} rounds`);
      break;
    }
    for (const tool of tools) {
      // Relative names from the parent directory: create-vite joins even an absolute path to the cwd.
      const name = `${tool.id.replace(/\W+/g, "_")}-${i}`;
      const dir = path.join(parent, name);
      const [cmd, ...args] = tool.argv(name);
      const result = run(cmd, args, { cwd: parent, env, timeoutMs: 30_000 });
      if (result.code !== 0) {
        throw new Error(`${tool.id} failed (exit ${result.code}):\n${result.stderr.slice(-2000)}\n${result.stdout.slice(-1000)}`);
      }
      if (i >= warmup) times[tool.id].push(result.ms);
      if (!tool.floor && !outputs[tool.id]) outputs[tool.id] = duBytes(dir);
      if (i > 0) fs.rmSync(dir, { recursive: true, force: true });
    }
    round++;
  }
  const results = tools.map((tool) => ({
    id: tool.id,
    ours: Boolean(tool.ours),
    floor: Boolean(tool.floor),
    flags: tool.flags,
    version: COMPETITORS[tool.id.split(" ")[0]] ?? null,
    ...summary(times[tool.id]),
    times: times[tool.id],
    files: outputs[tool.id]?.files ?? 0,
    bytes: outputs[tool.id]?.bytes ?? 0,
  }));
  return { rounds: round - warmup, results };
}

/**
 * Splits our CLI's time into: Node startup (node -e 0), loading the bundle (--version),
 * planning = reading + rendering templates (--dry-run), and writing (the full run).
 */
export function breakdown({ runs, deadline }) {
  const node = process.execPath;
  const env = scaffoldEnv();
  const parent = tempDir("breakdown");
  const steps = [
    { id: "node -e 0", argv: () => [node, "-e", "0"] },
    { id: "--version (load the bundle)", argv: () => [node, CLI, "--version"] },
    { id: "--dry-run (+ read and render templates)", argv: (dir) => [node, CLI, dir, "--yes", "--no-install", "--no-git", "--dry-run"] },
    { id: "full run (+ write files)", argv: (dir) => [node, CLI, dir, "--yes", "--no-install", "--no-git"] },
  ];
  const times = steps.map(() => []);
  for (let i = 0; i < runs + 1; i++) {
    if (Date.now() > deadline && i > 3) break;
    steps.forEach((step, k) => {
      const dir = path.join(parent, `b${k}-${i}`);
      const [cmd, ...args] = step.argv(dir);
      const result = run(cmd, args, { cwd: parent, env, timeoutMs: 30_000 });
      if (result.code !== 0) throw new Error(`${step.id} failed:\n${result.stderr.slice(-2000)}`);
      if (i > 0) times[k].push(result.ms);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }
  const medians = times.map(median);
  return steps.map((step, k) => ({ id: step.id, p50: medians[k], delta: k === 0 ? medians[0] : medians[k] - medians[k - 1] }));
}

// ---- CPU profile ------------------------------------------------------------

/**
 * Profiles the CLI with `node --cpu-prof` on an unminified copy of the bundle (scripts/build.mjs's
 * options otherwise), then charges every sample to the source module it falls in, using the
 * `// path` comments esbuild writes before each module.
 */
export async function profileCli({ runs = 5 } = {}) {
  const pkgDir = path.join(BENCH_CACHE, "profile", "pkg");
  fs.rmSync(pkgDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(pkgDir, "dist"), { recursive: true });
  fs.mkdirSync(path.join(pkgDir, "bin"), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, "package.json"), path.join(pkgDir, "package.json"));
  fs.symlinkSync(path.join(REPO_ROOT, "templates"), path.join(pkgDir, "templates"));
  const { build } = await import(path.join(REPO_ROOT, "node_modules", "esbuild", "lib", "main.js"));
  const { bundleOptions } = await import(path.join(REPO_ROOT, "scripts", "build.mjs"));
  const outfile = path.join(pkgDir, "dist", "index.js");
  await build(await bundleOptions({ outfile, minify: false }));
  fs.writeFileSync(path.join(pkgDir, "bin", "cli.js"), `import "../dist/index.js";\n`);

  // What the shipped (minified) bundle is made of, by package.
  const meta = await build(
    await bundleOptions({ outfile: path.join(pkgDir, "dist", "minified.js"), write: false, metafile: true }),
  );
  const composition = new Map();
  for (const output of Object.values(meta.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const key = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? "src (ours)";
      composition.set(key, (composition.get(key) ?? 0) + bytesInOutput);
    }
  }

  // Line -> module map from esbuild's "// node_modules/x/y.js" / "// src/x.ts" markers.
  const lines = fs.readFileSync(outfile, "utf8").split("\n");
  const starts = [];
  lines.forEach((line, i) => {
    const m = /^\/\/ ((?:node_modules|src)\/\S+)$/.exec(line);
    if (m) starts.push({ line: i, module: m[1] });
  });
  const moduleAt = (lineNumber) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle top level)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid].line <= lineNumber) {
        found = starts[mid].module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const group = (module) => {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module);
    if (m) return m[1];
    return module;
  };

  const profDir = path.join(BENCH_CACHE, "profile", "prof");
  fs.rmSync(profDir, { recursive: true, force: true });
  const parent = tempDir("profile");
  const byGroup = new Map();
  const byFunction = new Map();
  let totalUs = 0;
  let wallMs = 0;
  for (let i = 0; i < runs; i++) {
    const dir = path.join(parent, `p${i}`);
    const result = run(
      process.execPath,
      ["--cpu-prof", "--cpu-prof-interval", "100", "--cpu-prof-dir", profDir, path.join(pkgDir, "bin", "cli.js"), dir, "--yes", "--no-install", "--no-git"],
      { cwd: parent, timeoutMs: 30_000 },
    );
    if (result.code !== 0) throw new Error(`profiled run failed:\n${result.stderr.slice(-2000)}`);
    wallMs += result.ms;
  }
  for (const file of fs.readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(fs.readFileSync(path.join(profDir, file), "utf8"));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const deltas = profile.timeDeltas;
    profile.samples.forEach((id, k) => {
      const us = deltas[k] ?? 0;
      totalUs += us;
      const { callFrame } = nodes.get(id);
      let where;
      if (callFrame.url.endsWith("/dist/index.js")) where = group(moduleAt(callFrame.lineNumber));
      else if (callFrame.url.startsWith("node:")) where = "node: built-ins (module loader, fs, …)";
      else if (!callFrame.url) where = callFrame.functionName || "(native)";
      else where = path.basename(callFrame.url);
      byGroup.set(where, (byGroup.get(where) ?? 0) + us);
      const fn = `${callFrame.functionName || "(anonymous)"} — ${where}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    });
  }
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000 / runs, share: us / totalUs }));
  return {
    runs,
    wallMs: wallMs / runs,
    sampledMs: totalUs / 1000 / runs,
    bundleBytes: fs.statSync(path.join(REPO_ROOT, "dist", "index.js")).size,
    composition: [...composition.entries()].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => ({ name, bytes })),
    groups: top(byGroup, 12),
    functions: top(byFunction, 12),
  };
}
