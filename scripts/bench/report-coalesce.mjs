// The token-coalescing comparison (scripts/bench/coalesce.mjs) as a section of docs/benchmarks.md.

const num = (v, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? "–" : v.toFixed(digits));
const pct = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(0)} %`);

export function coalesceMarkdown(c) {
  const rows = c.windows.map((ms) => ({ ms, ...c.rows[ms].summary }));
  const common = rows[0]?.commonLevel ?? 0;
  return [
    "## Token coalescing (`STREAM_COALESCE_MS`)",
    "",
    "Issue 16's coalescing lever, measured and not kept: the generated app has no such setting (why: \"Levers\" below; the",
    "code, which this comparison needs, is in commit f419314).",
    "",
    `Run of ${c.date.slice(0, 10)} (\`npm run bench -- --coalesce=${c.windows.join(",")}\`, ${Math.round(c.seconds)} s): one app server per window, all pinned to CPU ${c.pinnedTo},`,
    `against the paced upstream (${c.shape.tokens} tokens, ${c.shape.intervalMs} ms apart); TTFT and CPU in ${c.rounds} interleaved rounds (medians shown),`,
    "the capacity search level by level across the windows (0 errors, every answer complete, added gap p99 ≤ 50 ms between",
    "events, as in the side-by-side). Machine busy (all cores, the benchmark included):",
    `${pct(c.busy.costs?.busy)} during TTFT/CPU, ${pct(c.busy.capacity?.busy)} during the capacity search; ${pct(c.busyBefore)} before it started; load average ${num(c.loadBefore, 1)} → ${num(c.loadAfter, 1)}.`,
    "",
    `| window | streams held at 50 tokens/s | CPU µs a token | CPU µs a stream | added TTFT p50 / p99 ms | at ×${common}: gap between events p50 / p99 ms (added p99) | at ×${common}: CPU of a core (waiting for it), µs a token |`,
    "|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.ms === 0 ? "0 (off)" : `${r.ms} ms`} | ${r.capacity}${r.firstFailure ? ` (×${r.firstFailure} failed)` : ""} | ${num(r.perTokenUs)} | ${num(r.perStreamUs)} | ${num(r.ttftP50, 2)} / ${num(r.ttftP99, 2)} | ${num(r.gapP50, 1)} / ${num(r.gapP99, 1)} (+${num(r.addedGapP99, 1)}) | ${pct(r.cpuShare)} (${pct(r.runQueueShare)}), ${num(r.cpuUsPerTokenAtLevel)} |`,
    ),
    "",
  ];
}
