// What `npm create fly-fastapi` costs a first-time user: tarball, install footprint, cold `npm exec`.
import fs from "node:fs";
import path from "node:path";
import { BENCH_CACHE, REPO_ROOT, duBytes, log, median, must, run, tempDir } from "./util.mjs";
import { COMPETITORS } from "./scaffold.mjs";
import { startRegistry } from "./registry.mjs";

const PACK_DIR = path.join(BENCH_CACHE, "pack");

/** npm's environment without the repo's own node_modules/.bin or any npx cache of ours. */
function npmEnv() {
  const env = { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
  delete env.CI;
  for (const key of Object.keys(env)) if (key.startsWith("npm_") && !key.startsWith("npm_config_")) delete env[key];
  return env;
}

/** `npm pack` this repo (after `npm run build` done by the caller) and the pinned create-vite. */
export function packTarballs() {
  fs.rmSync(PACK_DIR, { recursive: true, force: true });
  fs.mkdirSync(PACK_DIR, { recursive: true });
  const ours = JSON.parse(must("npm", ["pack", "--json", "--pack-destination", PACK_DIR], { cwd: REPO_ROOT, env: npmEnv() }).stdout)[0];
  const vite = JSON.parse(
    must("npm", ["pack", "--json", "--pack-destination", PACK_DIR, `create-vite@${COMPETITORS["create-vite"]}`], {
      cwd: PACK_DIR,
      env: npmEnv(),
      timeoutMs: 120_000,
    }).stdout,
  )[0];
  const describe = (p) => ({
    file: path.join(PACK_DIR, p.filename),
    name: p.name,
    version: p.version,
    size: p.size,
    unpackedSize: p.unpackedSize,
    entryCount: p.entryCount,
    largest: [...p.files].sort((a, b) => b.size - a.size).slice(0, 5).map((f) => ({ path: f.path, size: f.size })),
  });
  return { ours: describe(ours), vite: describe(vite) };
}

/** Installs a package into an empty prefix with an empty cache: how many packages and bytes arrive. */
export function installFootprint(spec, registry) {
  const prefix = tempDir("install");
  const cache = tempDir("npmcache");
  fs.writeFileSync(path.join(prefix, "package.json"), JSON.stringify({ private: true }));
  const result = must("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", "--cache", cache, "--registry", registry, spec], {
    cwd: prefix,
    env: npmEnv(),
    timeoutMs: 180_000,
  });
  const modules = path.join(prefix, "node_modules");
  const packages = [];
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === ".bin" || entry.name.startsWith(".")) continue;
      const p = path.join(dir, entry.name);
      if (entry.name.startsWith("@")) {
        walk(p);
        continue;
      }
      if (fs.existsSync(path.join(p, "package.json"))) {
        packages.push(path.relative(modules, p));
        walk(path.join(p, "node_modules"));
      }
    }
  };
  walk(modules);
  const { bytes, files } = duBytes(modules);
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.rmSync(cache, { recursive: true, force: true });
  return { packages: packages.length, names: packages, bytes, files, ms: result.ms };
}

/**
 * Wall time of `npm exec` with a fresh, empty npm cache each run (a first-time user), creating a
 * project. Runs from an empty directory so no local node_modules/.bin is found. Ours is not
 * published, so both packages are also served from a registry on 127.0.0.1 (same npm code path,
 * no network); create-vite from the public registry is what its users see.
 */
export function coldExec({ runs, registry, deadline }) {
  const vite = `create-vite@${COMPETITORS["create-vite"]}`;
  const viteArgs = ["--template", "vanilla-ts", "--no-interactive", "--no-immediate"];
  const local = ["--registry", registry];
  const cases = [
    { id: "create-fly-fastapi (local registry)", ours: true, pkg: "create-fly-fastapi", bin: "create-fly-fastapi", args: ["--yes", "--no-install", "--no-git"], npm: local },
    { id: "create-vite (local registry)", pkg: vite, bin: "create-vite", args: viteArgs, npm: local },
    { id: "create-vite (public registry)", registry: true, pkg: vite, bin: "create-vite", args: viteArgs, npm: [] },
  ];
  const times = cases.map(() => []);
  const failures = cases.map(() => 0);
  for (let i = 0; i < runs; i++) {
    if (Date.now() > deadline && i >= 2) {
      log(`cold npm exec stopped at the time limit after ${i} rounds`);
      break;
    }
    cases.forEach((c, k) => {
      const cwd = tempDir("exec");
      const cache = tempDir("npmcache");
      const result = run("npm", ["exec", "--yes", "--cache", cache, ...c.npm, "--package", c.pkg, "--", c.bin, "app", ...c.args], {
        cwd,
        env: npmEnv(),
        timeoutMs: 120_000,
      });
      if (result.code !== 0 || !fs.existsSync(path.join(cwd, "app"))) {
        failures[k]++;
        log(`${c.id}: npm exec failed (exit ${result.code}): ${result.stderr.slice(-500)}`);
      } else times[k].push(result.ms);
      fs.rmSync(cwd, { recursive: true, force: true });
      fs.rmSync(cache, { recursive: true, force: true });
    });
  }
  return cases.map((c, k) => ({ id: c.id, ours: Boolean(c.ours), registry: Boolean(c.registry), n: times[k].length, p50: median(times[k]), times: times[k], failures: failures[k] }));
}

export async function npmCost({ runs, deadline }) {
  log("npm pack (ours and create-vite)");
  const tarballs = packTarballs();
  const registry = await startRegistry([tarballs.ours.file, tarballs.vite.file]);
  try {
    log("installing each package from the local registry into an empty prefix with an empty cache");
    const footprint = { ours: installFootprint("create-fly-fastapi", registry.url), vite: installFootprint(`create-vite@${COMPETITORS["create-vite"]}`, registry.url) };
    log(`cold npm exec × ${runs}`);
    const exec = coldExec({ runs, registry: registry.url, deadline });
    return { tarballs, footprint, exec };
  } finally {
    await registry.stop();
  }
}
