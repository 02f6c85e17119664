// Issue 16's token-coalescing lever: the generated app with STREAM_COALESCE_MS at several windows,
// one server per window (all pinned to the same core, as the side-by-side's are), measured in
// interleaved rounds so machine load hits every window alike: added TTFT, CPU per token and per
// stream, and the capacity search at 50 tokens/s level by level across the windows.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CHAT_BODY, MODEL, appIsError, appIsToken, appTokens, upstreamEnv } from "./app.mjs";
import { prepareProject, productionUvicornFlags, serve } from "./python.mjs";
import { addedTtft, capacityLevel, cpuCosts, PACED_SHAPE, upstreamIsToken } from "./sidebyside.mjs";
import { startUpstream } from "./upstream.mjs";
import { busyShare, cpuCounters, log, median, run } from "./util.mjs";

/** Windows compared by default (ms): off, below the upstream's 20 ms between tokens, above it. */
export const DEFAULT_WINDOWS = [0, 10, 25, 50];

const mid = (values) => (values.length ? median(values) : null);

export async function coalesceBenchmarks({ windows = DEFAULT_WINDOWS, rounds = 2, start = 25, max = 1600, deadline }) {
  const project = prepareProject("default");
  // The lever was measured and left out of the templates (docs/benchmarks.md says why): its code
  // is in commit f419314, which this comparison needs.
  if (!fs.readFileSync(path.join(project.dir, "app", "config.py"), "utf8").includes("stream_coalesce_ms")) {
    throw new Error("the generated app has no STREAM_COALESCE_MS: check out commit f419314 (the coalescing lever) to compare windows");
  }
  const flags = productionUvicornFlags(project.dir);
  const nofile = Number(run("sh", ["-c", "ulimit -n"]).stdout.trim()) || 1024;
  const cpus = String(Math.max(0, (os.availableParallelism?.() ?? os.cpus().length) - 1));
  const upstream = await startUpstream();
  const direct = { url: `${upstream.baseUrl}/chat/completions`, body: { model: MODEL, stream: true, messages: [{ role: "user", content: "hi" }] }, isToken: upstreamIsToken };
  const servers = [];
  const result = { versions: project.versions, pinnedTo: cpus, windows, rounds, rows: {}, levels: [], busy: {} };
  try {
    for (const ms of windows) {
      const app = await serve(project.dir, { env: { ...upstreamEnv(upstream.baseUrl), STREAM_COALESCE_MS: String(ms) }, flags, cpus });
      servers.push({
        ms,
        id: `app@${ms}ms`,
        pid: app.pid,
        origin: app.origin,
        stop: app.stop,
        stream: { url: `${app.origin}/v1/chat/stream`, body: JSON.parse(CHAT_BODY), isToken: appIsToken, tokensIn: appTokens, isError: appIsError },
      });
      result.rows[ms] = { ttft: [], cpu: [], levels: [] };
    }

    // TTFT and CPU: `rounds` rounds, each window once per round, in turn.
    const c0 = cpuCounters();
    for (let r = 0; r < rounds; r++) {
      for (const server of r % 2 ? [...servers].reverse() : servers) {
        const ttft = await addedTtft({ server, upstream, direct, count: 40 });
        const cpu = await cpuCosts({ server, upstream, quick: false });
        result.rows[server.ms].ttft.push(ttft);
        result.rows[server.ms].cpu.push(cpu);
        log(`${server.id} round ${r + 1}: added TTFT p50 ${ttft.p50.toFixed(2)} ms p99 ${ttft.p99.toFixed(2)} ms; ${cpu.perTokenUs.toFixed(0)} µs CPU a token, ${cpu.perStreamUs.toFixed(0)} µs a stream`);
      }
    }
    result.busy.costs = busyShare(c0, cpuCounters());

    // Capacity: every window still passing tries each doubled level, one after the other.
    await upstream.configure(PACED_SHAPE);
    const c1 = cpuCounters();
    let alive = [...servers];
    for (let c = start; c <= max && alive.length && Date.now() < deadline - 30_000; c *= 2) {
      if (2 * c + 200 > nofile) break;
      for (const server of alive) {
        const row = await capacityLevel({ server, upstream, direct, concurrency: c, rounds: 2, deadline });
        result.rows[server.ms].levels.push(row);
        log(
          `${server.id} ×${c}: ${row.errors} errors, inter-token p99 ${row.directGapP99.toFixed(1)} → ${row.gapP99.toFixed(1)} ms (+${row.addedGapP99.toFixed(1)}), TTFT p99 ${row.ttftP99.toFixed(0)} ms, ` +
            `CPU ${(row.cpuShare * 100).toFixed(0)} % of a core, waiting for one ${(row.runQueueShare * 100).toFixed(0)} %, ${row.cpuUsPerToken?.toFixed(0)} µs/token ${row.ok ? "ok" : "FAIL"}`,
        );
      }
      alive = alive.filter((s) => result.rows[s.ms].levels.at(-1).ok);
    }
    result.busy.capacity = busyShare(c1, cpuCounters());
  } finally {
    for (const server of servers) await server.stop();
    await upstream.stop?.();
  }
  for (const ms of windows) {
    const row = result.rows[ms];
    const passed = row.levels.filter((l) => l.ok);
    const failed = row.levels.find((l) => !l.ok);
    row.summary = {
      ttftP50: mid(row.ttft.map((t) => t.p50)),
      ttftP99: mid(row.ttft.map((t) => t.p99)),
      perTokenUs: mid(row.cpu.map((c) => c.perTokenUs)),
      perStreamUs: mid(row.cpu.map((c) => c.perStreamUs)),
      capacity: passed.at(-1)?.concurrency ?? 0,
      firstFailure: failed?.concurrency ?? null,
      // At the highest level every window ran: what each costs and adds under the same load.
    };
  }
  const common = Math.min(...windows.map((ms) => result.rows[ms].levels.at(-1)?.concurrency ?? 0));
  for (const ms of windows) {
    const at = result.rows[ms].levels.find((l) => l.concurrency === common);
    Object.assign(result.rows[ms].summary, {
      commonLevel: common,
      gapP50: at?.gapP50 ?? null,
      gapP99: at?.gapP99 ?? null,
      addedGapP99: at?.addedGapP99 ?? null,
      cpuShare: at?.cpuShare ?? null,
      cpuUsPerTokenAtLevel: at?.cpuUsPerToken ?? null,
      runQueueShare: at?.runQueueShare ?? null,
    });
  }
  result.shape = PACED_SHAPE;
  return result;
}
