#!/usr/bin/env node
// Benchmarks for create-fly-fastapi: the scaffolder (issue #7) and the generated app beside the
// LiteLLM proxy and a bare relay (issue 16). Everything runs on 127.0.0.1, every loop is bounded
// in count and time, and nothing here passes or fails on absolute times.
//
//   npm run bench              everything (< 10 min on 2 cores); writes docs/benchmarks.md
//   npm run bench -- --quick   a short subset for CI (< 3 min; no LiteLLM); prints the ratios only
//
// Options: --quick, --write (also write docs/benchmarks.md after --quick),
//          --only=scaffold,npm,app (run some sections), --json (print the results as JSON),
//          --render (rewrite docs/benchmarks.md from .cache/bench/results-full.json, measuring nothing),
//          --quiet-wait=S (before each section wait up to S s for an idle machine; 45 by default, 0 with --quick).
//          --coalesce[=0,10,25,50] (only the token-coalescing comparison: the app at each STREAM_COALESCE_MS,
//          interleaved; saved in .cache/bench/results-coalesce.json, then docs/benchmarks.md is rendered again).
//          --history (only the conversation-history TTFT of a --postgres project; saved in
//          .cache/bench/results-history.json, then its section of docs/benchmarks.md is written again).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { breakdown, ensureCompetitors, profileCli, timeScaffolders } from "./bench/scaffold.mjs";
import { npmCost } from "./bench/npm-cost.mjs";
import { appBenchmarks } from "./bench/app.mjs";
import { DEFAULT_WINDOWS, coalesceBenchmarks } from "./bench/coalesce.mjs";
import { historyBenchmark } from "./bench/history.mjs";
import { renderMarkdown, renderSummary } from "./bench/report.mjs";
import { historyMarkdown, historySummaryLine } from "./bench/report-history.mjs";
import { BENCH_CACHE, REPO_ROOT, busyShare, cleanupTemp, cpuCounters, log, machine, must, waitQuiet } from "./bench/util.mjs";

const argv = process.argv.slice(2);

const COALESCE_FILE = path.join(BENCH_CACHE, "results-coalesce.json");
/** The last coalescing comparison, rendered beside whichever full run the doc shows. */
const withCoalescing = (results) => (fs.existsSync(COALESCE_FILE) ? { ...results, coalesce: JSON.parse(fs.readFileSync(COALESCE_FILE, "utf8")) } : results);
const HISTORY_FILE = path.join(BENCH_CACHE, "results-history.json");
/** The last `--history` run, rendered when the run shown has no history section of its own. */
const withHistory = (results) => {
  if (!fs.existsSync(HISTORY_FILE)) return results;
  const saved = JSON.parse(fs.readFileSync(HISTORY_FILE, "utf8"));
  return { ...results, history: { h: saved.history, date: saved.date, mode: "`npm run bench -- --history`" } };
};
const DOC = path.join(REPO_ROOT, "docs", "benchmarks.md");

// --render: rewrite docs/benchmarks.md from the last full run's raw results, measuring nothing.
if (argv.includes("--render")) {
  const file = path.join(BENCH_CACHE, "results-full.json");
  const saved = withHistory(withCoalescing(JSON.parse(fs.readFileSync(file, "utf8"))));
  fs.writeFileSync(path.join(REPO_ROOT, "docs", "benchmarks.md"), renderMarkdown(saved));
  console.log(renderSummary(saved));
  process.exit(0);
}

// --coalesce: the token-coalescing lever alone (issue 16), then the doc rendered again.
const coalesceArg = argv.find((a) => a === "--coalesce" || a.startsWith("--coalesce="));
if (coalesceArg) {
  const windows = coalesceArg.includes("=") ? coalesceArg.slice(11).split(",").map(Number) : DEFAULT_WINDOWS;
  must(process.execPath, ["scripts/build.mjs"], { cwd: REPO_ROOT, timeoutMs: 120_000 });
  const quiet = await waitQuiet({ maxMs: 30_000 });
  const t0 = Date.now();
  const load0 = os.loadavg()[0];
  try {
    const measured = await coalesceBenchmarks({ windows, deadline: Date.now() + 540_000 });
    const run = { date: new Date().toISOString(), machine: machine(), seconds: (Date.now() - t0) / 1000, busyBefore: quiet.busy, loadBefore: load0, loadAfter: os.loadavg()[0], ...measured };
    fs.mkdirSync(BENCH_CACHE, { recursive: true });
    fs.writeFileSync(COALESCE_FILE, JSON.stringify(run, null, 2));
    const full = path.join(BENCH_CACHE, "results-full.json");
    if (fs.existsSync(full)) fs.writeFileSync(path.join(REPO_ROOT, "docs", "benchmarks.md"), renderMarkdown(withHistory(withCoalescing(JSON.parse(fs.readFileSync(full, "utf8"))))));
    log(`done in ${run.seconds.toFixed(0)} s; raw results in .cache/bench/results-coalesce.json`);
  } finally {
    cleanupTemp();
  }
  process.exit(0);
}
// --history: the conversation-history TTFT alone, then its section of the doc written again.
if (argv.includes("--history")) {
  must(process.execPath, ["scripts/build.mjs"], { cwd: REPO_ROOT, timeoutMs: 120_000 });
  const t0 = Date.now();
  try {
    const history = await historyBenchmark({ quick: false, deadline: Date.now() + 240_000 });
    const run = { date: new Date().toISOString(), machine: machine(), seconds: (Date.now() - t0) / 1000, history };
    fs.mkdirSync(BENCH_CACHE, { recursive: true });
    fs.writeFileSync(HISTORY_FILE, JSON.stringify(run, null, 2));
    console.log(historySummaryLine(history));
    const full = path.join(BENCH_CACHE, "results-full.json");
    if (fs.existsSync(full)) fs.writeFileSync(DOC, renderMarkdown(withHistory(withCoalescing(JSON.parse(fs.readFileSync(full, "utf8"))))));
    else {
      // No full run here to render from: only this section of the doc is replaced (or put before the analysis).
      const doc = fs.readFileSync(DOC, "utf8");
      const section = historyMarkdown(history, { date: run.date, mode: "`npm run bench -- --history`" }).join("\n");
      const at = doc.indexOf("## Conversation history");
      const end = at < 0 ? -1 : doc.indexOf("\n## ", at + 1);
      const before = doc.indexOf("## Analysis");
      const next = at >= 0 ? doc.slice(0, at) + section + (end < 0 ? "" : doc.slice(end + 1)) : before >= 0 ? doc.slice(0, before) + section + "\n" + doc.slice(before) : `${doc.trimEnd()}\n\n${section}`;
      fs.writeFileSync(DOC, next);
    }
    log(`done in ${run.seconds.toFixed(0)} s; raw results in .cache/bench/results-history.json`);
  } finally {
    cleanupTemp();
  }
  process.exit(0);
}
const quick = argv.includes("--quick");
const only = argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const wants = (section) => !only || only.includes(section);
const writeDocs = argv.includes("--write") || (!quick && !only);

// Hard stop for the whole run, whatever happens below.
const BUDGET_MS = quick ? 170_000 : 570_000;
// (waiting for a quiet machine counts against the budget too; sections shrink to fit)
const started = Date.now();
const hardStop = setTimeout(() => {
  log(`time limit of ${BUDGET_MS / 1000} s reached: stopping`);
  cleanupTemp();
  process.exit(2);
}, BUDGET_MS + 30_000);
hardStop.unref();
/** A deadline for a section: `share` of what is left of the budget. */
const deadlineFor = (share) => Date.now() + Math.max(5_000, (started + BUDGET_MS - Date.now()) * share);

const results = {
  mode: quick ? "quick" : "full",
  date: new Date().toISOString(),
  machine: machine(),
  sections: {},
  load: {},
  errors: [],
};

// Before each section, wait up to this long for the machine to go quiet (0 with --quick).
const quietArg = argv.find((a) => a.startsWith("--quiet-wait="));
const quietMs = 1000 * Number(quietArg ? quietArg.slice(13) : quick ? 0 : 45);

async function section(name, fn) {
  if (!wants(name)) return;
  const quiet = quietMs > 0 ? await waitQuiet({ maxMs: quietMs }) : null;
  if (quiet && quiet.busy >= 0.25) log(`machine still ${(quiet.busy * 100).toFixed(0)} % busy after ${Math.round(quiet.waitedMs / 1000)} s: ${name} figures will be slower`);
  const t0 = Date.now();
  const cpu0 = cpuCounters();
  const load0 = os.loadavg()[0];
  try {
    results.sections[name] = await fn();
  } catch (error) {
    log(`${name}: ${error.stack ?? error}`);
    results.errors.push({ section: name, message: String(error.message ?? error).slice(0, 2000) });
  }
  // How busy the whole machine was (the benchmark's own processes included): other work on a
  // shared machine shows up here and makes every figure of the section slower.
  results.load[name] = { seconds: (Date.now() - t0) / 1000, busyBefore: quiet?.busy ?? null, loadBefore: load0, loadAfter: os.loadavg()[0], ...busyShare(cpu0, cpuCounters()) };
  log(`${name} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

process.on("SIGINT", () => {
  cleanupTemp();
  process.exit(130);
});

try {
  log(`mode: ${results.mode}; building dist/ first`);
  must(process.execPath, ["scripts/build.mjs"], { cwd: REPO_ROOT, timeoutMs: 120_000 });

  await section("scaffold", async () => {
    ensureCompetitors();
    const timing = timeScaffolders({ quick, runs: quick ? 5 : 15, warmup: quick ? 1 : 2, deadline: deadlineFor(quick ? 0.1 : 0.12) });
    const parts = breakdown({ runs: quick ? 3 : 10, deadline: deadlineFor(0.05) });
    const profile = quick ? null : await profileCli({ runs: 5 });
    return { ...timing, breakdown: parts, profile };
  });

  await section("npm", async () => await npmCost({ runs: quick ? 2 : 5, deadline: deadlineFor(quick ? 0.15 : 0.1) }));

  // Before the app's section, which takes what is left of the budget.
  await section("history", async () => historyBenchmark({ quick, deadline: deadlineFor(quick ? 0.25 : 0.1) }));

  await section("app", async () => appBenchmarks({ quick, deadline: started + BUDGET_MS - 10_000 }));
} finally {
  cleanupTemp();
}

results.elapsedMs = Date.now() - started;
fs.mkdirSync(BENCH_CACHE, { recursive: true });
fs.writeFileSync(path.join(BENCH_CACHE, `results-${results.mode}.json`), JSON.stringify(results, null, 2));
if (argv.includes("--json")) console.log(JSON.stringify(results, null, 2));
else console.log(renderSummary(results));
if (writeDocs) {
  fs.writeFileSync(path.join(REPO_ROOT, "docs", "benchmarks.md"), renderMarkdown(withHistory(withCoalescing(results))));
  log("wrote docs/benchmarks.md");
}
log(`done in ${(results.elapsedMs / 1000).toFixed(0)} s; raw results in .cache/bench/results-${results.mode}.json`);
// Informational: a failed section is reported, never turned into a failing exit code,
// except when nothing could be measured at all.
process.exitCode = Object.keys(results.sections).length === 0 ? 1 : 0;
