// The side-by-side of issue 16: the generated app (a), the LiteLLM proxy (b) and a bare relay (c),
// one worker each on 127.0.0.1, against the same paced fake upstream and the same load generator.
import http from "node:http";
import { describeStreams, holdStreams, streamOnce } from "./streams.mjs";
import { cpuMs, log, median, openFds, quantile, rssBytes, runQueueMs, sleep } from "./util.mjs";

/** A stream of the capacity search: 50 tokens/s (20 ms apart) for 2 s, the first after 20 ms. */
export const PACED_SHAPE = { tokens: 100, intervalMs: 20, firstTokenMs: 20 };
/** The TTFT runs: two tokens at the same pace (only the first one is timed). */
export const TTFT_SHAPE = { tokens: 2, intervalMs: 20, firstTokenMs: 20 };
/** What the capacity search allows above the upstream's own 20 ms between tokens (p99). */
export const ADDED_GAP_P99_MS = 50;
/**
 * What a level may add to the p99 time to first token over the upstream alone: a stream that
 * waits longer than that to start is queued, not held, and its gaps would not be seen.
 */
export const ADDED_TTFT_P99_MS = 1_000;
/** How long after every client left the upstream may still see open streams. */
export const LEAK_WAIT_MS = 10_000;

/** A chunk of the upstream's own SSE (what (b) and (c) relay) that carries a token. */
export const upstreamIsToken = (block) => /"content": ?"[^"]/.test(block);

const waitFor = async (predicate, withinMs) => {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await sleep(100);
  }
  return false;
};

/**
 * Added time to first token at one stream: `count` streams one after another, each straight from
 * the upstream and then through `server`, so machine load hits both alike.
 */
export async function addedTtft({ server, upstream, direct, count }) {
  await upstream.configure(TTFT_SHAPE);
  const agent = new http.Agent({ keepAlive: true });
  const through = [];
  const straight = [];
  for (let i = 0; i < count + 2; i++) {
    const d = await streamOnce({ ...direct, agent });
    const s = await streamOnce({ ...server.stream, agent });
    if (i < 2) continue; // warm-up: first connections, first calls
    straight.push(d);
    through.push(s);
  }
  agent.destroy();
  const a = describeStreams(through);
  const b = describeStreams(straight);
  return { n: count, errors: a.errors, firstError: a.firstError, direct: b.ttft, through: a.ttft, p50: a.ttft.p50 - b.ttft.p50, p99: a.ttft.p99 - b.ttft.p99 };
}

/**
 * CPU per stream opened and per relayed token, from /proc (utime + stime of the server): `streams`
 * streams of 1 token, then of 101 tokens, 20 at a time. The difference of the two per-stream costs
 * over 100 tokens is a token's; a stream's is the first minus one token.
 */
export async function cpuCosts({ server, upstream, quick }) {
  const run = async (shape, count) => {
    await upstream.configure(shape);
    const agent = new http.Agent({ keepAlive: true });
    let started = 0;
    const results = [];
    const worker = async () => {
      while (started < count) {
        started++;
        results.push(await streamOnce({ ...server.stream, agent, timeoutMs: 30_000 }));
      }
    };
    // Warm-up round, not counted.
    await Promise.all(Array.from({ length: 5 }, () => streamOnce({ ...server.stream, agent })));
    const c0 = cpuMs(server.pid);
    await Promise.all(Array.from({ length: 20 }, worker));
    const cpu = cpuMs(server.pid) - c0;
    agent.destroy();
    const ok = results.filter((r) => !r.error && r.tokens === shape.tokens);
    return { streams: results.length, complete: ok.length, perStreamMs: cpu / results.length };
  };
  const short = await run({ tokens: 1, intervalMs: 20, firstTokenMs: 20 }, quick ? 100 : 200);
  const long = await run({ tokens: 101, intervalMs: 20, firstTokenMs: 20 }, quick ? 20 : 60);
  const perTokenUs = ((long.perStreamMs - short.perStreamMs) / 100) * 1000;
  const perStreamUs = short.perStreamMs * 1000 - perTokenUs;
  return { perTokenUs, perStreamUs, short, long };
}

/**
 * One level of the capacity search: `concurrency` clients, their first streams spread over one
 * stream's length (as streams arriving in a steady state), each running `rounds` streams of
 * PACED_SHAPE back to back against `stream` (a server's, or the upstream's own for the baseline).
 * The inter-token gaps are judged between the last client's start and the first one's last stream
 * (one stream's length to `rounds` of them after the start), when all `concurrency` streams are
 * open; with `pid`, the server's CPU and run-queue wait over the whole level.
 */
async function paced({ stream, pid, concurrency, rounds, deadline }) {
  const streamMs = PACED_SHAPE.firstTokenMs + PACED_SHAPE.tokens * PACED_SHAPE.intervalMs;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const allGaps = [];
  const gapAt = [];
  const results = [];
  const c0 = pid ? cpuMs(pid) : 0;
  const q0 = pid ? runQueueMs(pid) : 0;
  const t0 = performance.now();
  let peakRss = 0;
  const sampler = pid ? setInterval(() => (peakRss = Math.max(peakRss, rssBytes(pid) ?? 0)), 500) : null;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      await sleep((i * streamMs) / concurrency);
      for (let r = 0; r < rounds && Date.now() < deadline; r++) {
        results.push(await streamOnce({ ...stream, agent, gaps: allGaps, gapAt, timeoutMs: streamMs + 20_000 }));
      }
    }),
  );
  if (sampler) clearInterval(sampler);
  const ms = performance.now() - t0;
  const steadyFrom = t0 + streamMs;
  const steadyTo = t0 + rounds * streamMs;
  const gaps = allGaps.filter((_, i) => gapAt[i] >= steadyFrom && gapAt[i] <= steadyTo);
  const cpu = pid ? cpuMs(pid) - c0 : NaN;
  // (a thread that ended between the readings takes its wait with it: never below 0)
  const queued = pid ? Math.max(0, runQueueMs(pid) - q0) : NaN;
  const fds = pid ? openFds(pid) : null;
  agent.destroy();
  const d = describeStreams(results);
  const complete = results.filter((r) => !r.error && r.tokens === PACED_SHAPE.tokens).length;
  const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
  return {
    streams: results.length,
    expected: concurrency * rounds,
    errors: results.length - complete,
    firstError: d.firstError,
    ttftP50: d.ttft.p50,
    ttftP99: d.ttft.p99,
    gapP50: median(gaps),
    gapP99: quantile(gaps, 0.99),
    cpuShare: cpu / ms,
    runQueueShare: queued / ms,
    cpuUsPerToken: tokens ? (cpu * 1000) / tokens : null,
    peakRss,
    fds,
  };
}

/** A level: the upstream's own streams first (the baseline), then the same load through the server. */
export async function capacityLevel({ server, upstream, direct, concurrency, rounds, deadline }) {
  const settle = () => waitFor(async () => (await upstream.stats()).open === 0, LEAK_WAIT_MS);
  const baseline = await paced({ stream: direct, concurrency, rounds, deadline });
  await settle();
  const through = await paced({ stream: server.stream, pid: server.pid, concurrency, rounds, deadline });
  // Let the upstream finish or drop what is left before the next level.
  await settle();
  const row = { concurrency, ...through, directGapP99: baseline.gapP99, directTtftP99: baseline.ttftP99, addedGapP99: through.gapP99 - baseline.gapP99 };
  row.ok = judgeLevel(row);
  return row;
}

/** A level passes with 0 errors, every answer complete, and the added gaps and TTFT in bounds. */
export function judgeLevel(row) {
  return row.errors === 0 && row.streams === row.expected && row.addedGapP99 <= ADDED_GAP_P99_MS && row.ttftP99 - row.directTtftP99 <= ADDED_TTFT_P99_MS;
}

/** The largest level that passed below the smallest that failed, and that one. */
export function capacityOf(levels) {
  const sorted = [...levels].sort((a, b) => a.concurrency - b.concurrency);
  const firstFailure = sorted.find((l) => !judgeLevel(l))?.concurrency ?? null;
  const passed = sorted.filter((l) => judgeLevel(l) && (firstFailure === null || l.concurrency < firstFailure));
  return { capacity: passed.at(-1)?.concurrency ?? 0, firstFailure };
}

/**
 * Capacity by doubling from `start` until a level fails (0 errors, every answer complete, added
 * inter-token p99 ≤ ADDED_GAP_P99_MS), or by halving when `start` fails; then, with `refine`, one
 * level halfway between the last pass and the first failure. Bounded by `deadline` and the file-descriptor limit.
 */
export async function capacitySearch({ server, upstream, direct, start, max, rounds, refine, deadline, nofile }) {
  await upstream.configure(PACED_SHAPE);
  const levels = [];
  const tryLevel = async (concurrency) => {
    const row = await capacityLevel({ server, upstream, direct, concurrency, rounds, deadline });
    log(
      `${server.id} ×${concurrency}: ${row.errors} errors, inter-token p99 ${row.directGapP99.toFixed(1)} → ${row.gapP99.toFixed(1)} ms (+${row.addedGapP99.toFixed(1)}), TTFT p99 ${row.ttftP99.toFixed(0)} ms, ` +
        `CPU ${(row.cpuShare * 100).toFixed(0)} % of a core, waiting for one ${(row.runQueueShare * 100).toFixed(0)} %, ${row.cpuUsPerToken?.toFixed(0)} µs/token ${row.ok ? "ok" : "FAIL"}`,
    );
    levels.push(row);
    return row.ok;
  };
  let passed = 0;
  let failed = null;
  for (let c = start; c <= max; c *= 2) {
    // Each stream is a socket to the server and one from it to the upstream.
    if (2 * c + 200 > nofile || Date.now() > deadline - 20_000) break;
    if (await tryLevel(c)) passed = c;
    else {
      failed = c;
      break;
    }
  }
  // A server that fails the first level: halve down to 2 streams, to have a figure at all.
  for (let c = Math.floor(start / 2); !passed && failed && c >= 2 && Date.now() < deadline - 20_000; c = Math.floor(c / 2)) {
    if (await tryLevel(c)) passed = c;
    else failed = c;
  }
  if (refine && failed && passed && failed - passed >= 8 && Date.now() < deadline - 20_000) {
    const mid = Math.round((passed + failed) / 2);
    if (await tryLevel(mid)) passed = mid;
  }
  return { capacity: passed, firstFailure: failed, maxTried: Math.max(0, ...levels.map((l) => l.concurrency)), levels };
}

/**
 * Clients that leave mid-stream: `target` slow streams opened, each left after its first token;
 * every upstream stream should be closed within LEAK_WAIT_MS and the server still answer.
 */
export async function disconnectCheck({ server, upstream, target, deadline }) {
  await upstream.configure({ tokens: 600, intervalMs: 1000, firstTokenMs: 200 });
  const before = await upstream.stats();
  const held = await holdStreams({ ...server.stream, target, perTick: 20, tickMs: 100, minTokens: 1, holdMs: 15_000, deadline });
  const closed = await waitFor(async () => (await upstream.stats()).open === 0, LEAK_WAIT_MS);
  const after = await upstream.stats();
  const healthy = await fetch(`${server.origin}${server.healthPath}`, { signal: AbortSignal.timeout(5_000) }).then(
    (r) => r.ok,
    () => false,
  );
  return { target, withTokens: held.withTokens, errors: held.errors, upstreamAborted: after.aborted - before.aborted, leftOpen: after.open, closedAll: closed, healthy };
}
