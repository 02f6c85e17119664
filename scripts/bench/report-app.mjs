// The app section of the report: the side-by-side of issue 16 against its targets.
import { ADDED_GAP_P99_MS, ADDED_TTFT_P99_MS, LEAK_WAIT_MS, PACED_SHAPE, TTFT_SHAPE, capacityOf, judgeLevel } from "./sidebyside.mjs";
import { fmtBytes, fmtInt, fmtMs, fmtRatio, table } from "./util.mjs";

export const APP_TARGET = {
  streamsPerCore: 500,
  streamsVsLitellm: 3,
  cpuVsFloor: 1.5,
  addedTtftP50Ms: 1,
  ttftVsLitellm: 0.5,
  healthzVsOneRoute: 0.9,
  coldStartVsOneRoute: 1.2,
  imageVsBase: 1.25,
};
const NAMES = { app: "(a) generated app", granian: "(a) on granian instead of uvicorn", litellm: "(b) LiteLLM proxy", floor: "(c) bare relay (floor)" };
const ORDER = ["app", "granian", "litellm", "floor"];
const mark = (ok) => (ok === undefined || ok === null ? "" : ok ? "✅" : "❌");
const us = (x) => (Number.isFinite(x) ? `${Math.round(x)} µs` : "n/a");
const finite = (x) => Number.isFinite(x);

/** Each server's capacity, judged again from its levels (so `--render` applies the current rule). */
function rejudge(a) {
  for (const row of Object.values(a.sideBySide ?? {})) {
    if (!row.capacity?.levels) continue;
    for (const l of row.capacity.levels) l.ok = judgeLevel(l);
    Object.assign(row.capacity, capacityOf(row.capacity.levels));
  }
}

/** The figures each target is judged on. */
export function appRatios(a) {
  rejudge(a);
  const s = a.sideBySide ?? {};
  const app = s.app;
  const ll = s.litellm;
  const floor = s.floor;
  const cap = (row) => row?.capacity?.capacity ?? null;
  const out = {};
  if (app) {
    out.capacity = {
      app: cap(app),
      litellm: cap(ll),
      floor: cap(floor),
      vsLitellm: ll && cap(ll) ? cap(app) / cap(ll) : NaN,
    };
    out.capacity.ok = cap(app) >= APP_TARGET.streamsPerCore && (!ll || out.capacity.vsLitellm >= APP_TARGET.streamsVsLitellm);
    out.cpu = {
      tokenVsFloor: floor ? app.cpu.perTokenUs / floor.cpu.perTokenUs : NaN,
      streamVsFloor: floor ? app.cpu.perStreamUs / floor.cpu.perStreamUs : NaN,
    };
    out.cpu.ok = out.cpu.tokenVsFloor <= APP_TARGET.cpuVsFloor && out.cpu.streamVsFloor <= APP_TARGET.cpuVsFloor;
    out.ttft = { p50: app.ttft.p50, p99: app.ttft.p99, vsLitellm: ll ? app.ttft.p50 / ll.ttft.p50 : NaN };
    out.ttft.ok = app.ttft.p50 <= APP_TARGET.addedTtftP50Ms && (!ll || out.ttft.vsLitellm <= APP_TARGET.ttftVsLitellm);
    out.leftOpen = app.disconnect ? `${app.disconnect.leftOpen}/${app.disconnect.target}` : "n/a";
    out.leakFree = app.disconnect ? app.disconnect.leftOpen === 0 && app.disconnect.healthy : null;
  }
  if (a.healthz) {
    const valid = (m) => m && m.errors === 0;
    out.healthz = valid(a.healthz.app) && valid(a.healthz.oneRoute) ? a.healthz.app.rps / a.healthz.oneRoute.rps : NaN;
  }
  if (a.coldStart) out.coldStart = a.coldStart.app.p50 / a.coldStart.oneRoute.p50;
  if (a.image?.sizeBytes && a.image?.baseSizeBytes) out.image = a.image.sizeBytes / a.image.baseSizeBytes;
  return out;
}

export function appSummaryLines(a) {
  const r = appRatios(a);
  const lines = [];
  const s = a.sideBySide ?? {};
  for (const id of ORDER) {
    const row = s[id];
    if (!row) continue;
    lines.push(
      `${NAMES[id]}: ${fmtInt(row.capacity.capacity)} streams at 50 tokens/s (first failure ${row.capacity.firstFailure ?? "none"}); ` +
        `${us(row.cpu.perTokenUs)} CPU a token, ${us(row.cpu.perStreamUs)} a stream; added TTFT p50 ${fmtMs(row.ttft.p50, 2)} p99 ${fmtMs(row.ttft.p99, 2)}`,
    );
  }
  if (r.capacity) lines.push(`capacity ${fmtInt(r.capacity.app)} (target ≥ ${APP_TARGET.streamsPerCore}${s.litellm ? `, ${fmtRatio(r.capacity.vsLitellm)} LiteLLM's` : ""}) ${mark(r.capacity.ok)}; CPU/token ${fmtRatio(r.cpu.tokenVsFloor)} and /stream ${fmtRatio(r.cpu.streamVsFloor)} the floor's ${mark(r.cpu.ok)}`);
  if (finite(r.healthz)) lines.push(`/healthz ${fmtRatio(r.healthz)} of a one-route FastAPI app (target ≥ ${APP_TARGET.healthzVsOneRoute}) ${mark(r.healthz >= APP_TARGET.healthzVsOneRoute)}`);
  if (finite(r.coldStart)) lines.push(`cold start ${fmtMs(a.coldStart.app.p50, 0)} vs ${fmtMs(a.coldStart.oneRoute.p50, 0)}: ${fmtRatio(r.coldStart)} (target ≤ ${APP_TARGET.coldStartVsOneRoute}) ${mark(r.coldStart <= APP_TARGET.coldStartVsOneRoute)}`);
  if (r.leftOpen) lines.push(`upstream streams still open ${LEAK_WAIT_MS / 1000} s after their clients left: ${r.leftOpen} ${mark(r.leakFree)}`);
  if (!s.litellm) lines.push("LiteLLM: not in this run (full run only)");
  for (const e of a.errors ?? []) lines.push(`app section: ${e}`);
  return lines;
}

/** The rows of the summary table at the top of docs/benchmarks.md. */
export function appTargetRows(a) {
  const r = appRatios(a);
  const s = a.sideBySide ?? {};
  const rows = [];
  if (r.capacity) {
    rows.push([
      "Concurrent streams at 50 tokens/s one worker holds (0 errors, added inter-token p99 ≤ 50 ms; added TTFT p99 ≤ 1 s)",
      `≥ ${APP_TARGET.streamsPerCore} per core; ≥ ${APP_TARGET.streamsVsLitellm}× (b)`,
      `(a) ${fmtInt(r.capacity.app)}, (b) ${s.litellm ? fmtInt(r.capacity.litellm) : "n/a"}, (c) ${fmtInt(r.capacity.floor)}; (a)/(b) ${fmtRatio(r.capacity.vsLitellm)}`,
      mark(r.capacity.ok),
    ]);
    rows.push([
      "CPU per relayed token / per stream opened",
      `≤ ${APP_TARGET.cpuVsFloor}× (c)`,
      ["app", "litellm", "floor"]
        .filter((id) => s[id])
        .map((id) => `${id === "app" ? "(a)" : id === "litellm" ? "(b)" : "(c)"} ${us(s[id].cpu.perTokenUs)} / ${us(s[id].cpu.perStreamUs)}`)
        .join("; ") + `; (a)/(c) ${fmtRatio(r.cpu.tokenVsFloor)} / ${fmtRatio(r.cpu.streamVsFloor)}`,
      mark(r.cpu.ok),
    ]);
    rows.push([
      "Added TTFT at 1 stream, p50 / p99",
      `p50 ≤ ${APP_TARGET.addedTtftP50Ms} ms and ≤ ${APP_TARGET.ttftVsLitellm}× (b)`,
      ["app", "litellm", "floor"]
        .filter((id) => s[id])
        .map((id) => `${id === "app" ? "(a)" : id === "litellm" ? "(b)" : "(c)"} ${fmtMs(s[id].ttft.p50, 2)} / ${fmtMs(s[id].ttft.p99, 2)}`)
        .join("; ") + (s.litellm ? `; (a)/(b) ${fmtRatio(r.ttft.vsLitellm)}` : ""),
      mark(r.ttft.ok),
    ]);
  }
  if (a.healthz) {
    rows.push([
      "`/healthz` req/s against a one-route FastAPI app, same flags",
      `≥ ${APP_TARGET.healthzVsOneRoute}×`,
      `${fmtInt(a.healthz.app.rps)} vs ${fmtInt(a.healthz.oneRoute.rps)} (${fmtRatio(r.healthz)})`,
      mark(r.healthz >= APP_TARGET.healthzVsOneRoute),
    ]);
  }
  if (a.coldStart) {
    rows.push([
      "Cold start: process start to the first 200 on `/healthz` (p50)",
      `≤ ${APP_TARGET.coldStartVsOneRoute}× the one-route app`,
      `${fmtMs(a.coldStart.app.p50, 0)} vs ${fmtMs(a.coldStart.oneRoute.p50, 0)} (${fmtRatio(r.coldStart)})` + (a.litellm ? `; LiteLLM ${fmtMs(a.litellm.startMs, 0)} to its liveness endpoint` : ""),
      mark(r.coldStart <= APP_TARGET.coldStartVsOneRoute),
    ]);
  }
  rows.push([
    "Image size from the container check, against its base image",
    `≤ ${APP_TARGET.imageVsBase}×`,
    finite(r.image) ? `${fmtBytes(a.image.sizeBytes)} vs ${fmtBytes(a.image.baseSizeBytes)} (${fmtRatio(r.image)})` : a.image?.sizeBytes ? `${fmtBytes(a.image.sizeBytes)}; the base image's size was not in the report` : "not measured in this run",
    finite(r.image) ? mark(r.image <= APP_TARGET.imageVsBase) : "",
  ]);
  if (r.leftOpen) rows.push([`Upstream streams left open ${LEAK_WAIT_MS / 1000} s after their clients left`, "0", r.leftOpen, mark(r.leakFree)]);
  return rows;
}

/**
 * fly.toml's concurrency limits from the measured capacity of (a): see docs/container.md for the
 * arithmetic. soft_limit: half of what one worker held on a whole core here (a shared-cpu-1x
 * vCPU is not a whole core, and the Machine runs more than the relay); hard_limit: 5× that, for
 * streams that mostly wait (a reasoning model's first token), below the SDK's 1,000 connections.
 */
export function flyLimits(a) {
  const held = a.sideBySide?.app?.capacity?.capacity;
  if (!held) return null;
  const nice = (n) => (n >= 100 ? Math.round(n / 50) * 50 : Math.max(5, Math.round(n / 5) * 5));
  const soft = nice(held / 2);
  const hard = nice(Math.min(5 * soft, 800));
  return { held, soft, hard };
}

export function appMarkdown(results) {
  const a = results.sections.app;
  const s = a.sideBySide ?? {};
  const out = [
    "## The generated app beside LiteLLM and the floor",
    "",
    "Each server runs one worker on 127.0.0.1 in front of the same fake OpenAI-compatible upstream",
    "(`scripts/bench/upstream.mjs`, Node: `chat.completion.chunk` events paced N tokens/s per stream, `data: [DONE]`),",
    `read by the same Node load generator${a.pinnedTo !== undefined ? `; each server is pinned to core ${a.pinnedTo} with \`taskset\` (threads and worker processes included), so its figures are per core and the load generator and upstream run beside it` : ""}:`,
    "",
    `- (a) the default project (\`--yes\`), installed with \`uv sync\`, served by its uvicorn with the Dockerfile's flags \`${a.uvicornFlags.join(" ")}\`, pointed at the upstream with \`PROVIDER=openai-compatible BASE_URL=…\`; its \`POST /v1/chat/stream\` is read. \`RATE_LIMIT=1000000/second\`: the limit stays on, so its cost is measured, but never trips (all load comes from one address).`,
    `- (b) the LiteLLM proxy ${a.litellm ? a.litellm.version : "(not in this run)"} (\`litellm[proxy]\` from PyPI in \`.cache/bench/litellm\`), \`--num_workers 1\`, the upstream as one \`openai/\` model, a master key made for the run; its \`POST /v1/chat/completions\` is read. It runs its own uvicorn with its defaults.`,
    ...(a.granian ? [`- (a) again, served by granian ${a.granian.version} (\`--interface asgi --workers 1 --loop uvloop\`, installed into the project's venv) instead of uvicorn: the granian lever.`] : []),
    "- (c) the floor: `scripts/bench/relay_floor.py`, a bare ASGI app that passes the upstream's SSE bytes through with the project's httpx, nothing else, on the project's uvicorn with the same flags as (a).",
    "",
    `Capacity: doubling from the first level, each level runs N clients whose first streams start spread over one stream's length, each reading two streams of ${PACED_SHAPE.tokens} tokens at ${1000 / PACED_SHAPE.intervalMs} tokens/s back to back, so that between the last client's start and the first client's end all N streams are open: the gaps are judged in that window;`,
    `each level runs the same load straight from the upstream first, and passes with 0 errors, every answer complete, the inter-token gap the clients saw at p99 at most ${ADDED_GAP_P99_MS} ms above the upstream's own at that level, and the p99 TTFT at most ${ADDED_TTFT_P99_MS / 1000} s above it (a stream that waits longer to start is queued, not held). The full run tries one level halfway between the last pass and the first failure.`,
    "\"Waiting for a core\" is the time the server's threads were runnable but not running (`/proc/<pid>/task/*/schedstat`), as a share of the level: the cores taken by the load generator, the upstream and any other work on the machine.",
    `CPU is the server's utime + stime from \`/proc/<pid>/stat\`: streams of 1 and of 101 tokens, 20 at a time; a token costs the difference over 100 tokens, a stream the rest. Added TTFT: ${TTFT_SHAPE.tokens}-token streams one at a time, each straight from the upstream and then through the server (first token after ${TTFT_SHAPE.firstTokenMs} ms), the difference of the quantiles.`,
    "",
    table(
      ["Server", "Streams held", "First failure", "CPU / token", "CPU / stream", "Added TTFT p50 / p99", "Errors at 1 stream"],
      ORDER.filter((id) => s[id]).map((id) => {
          const row = s[id];
          return [NAMES[id], fmtInt(row.capacity.capacity), row.capacity.firstFailure ? fmtInt(row.capacity.firstFailure) : `none up to ${fmtInt(row.capacity.maxTried)}`, us(row.cpu.perTokenUs), us(row.cpu.perStreamUs), `${fmtMs(row.ttft.p50, 2)} / ${fmtMs(row.ttft.p99, 2)}`, String(row.ttft.errors)];
        }),
    ),
    "",
    "Every level of the capacity search:",
    "",
    table(
      ["Server", "Clients", "Streams", "Errors", "Inter-token p99: upstream alone → through the server", "Inter-token p50", "TTFT p50 / p99 (upstream alone p99)", "Server CPU (of a core)", "Server waiting for a core", "CPU / token", "Peak RSS", ""],
      ORDER.filter((id) => s[id]).flatMap((id) =>
          s[id].capacity.levels.map((l) => [
            NAMES[id],
            fmtInt(l.concurrency),
            fmtInt(l.streams),
            `${l.errors}${l.firstError ? ` (${String(l.firstError).slice(0, 50)})` : ""}`,
            `${fmtMs(l.directGapP99)} → ${fmtMs(l.gapP99)} (+${fmtMs(l.addedGapP99)})`,
            fmtMs(l.gapP50),
            `${fmtMs(l.ttftP50, 0)} / ${fmtMs(l.ttftP99, 0)} (${fmtMs(l.directTtftP99, 0)})`,
            `${Math.round(l.cpuShare * 100)} %`,
            Number.isFinite(l.runQueueShare) ? `${Math.round(l.runQueueShare * 100)} %` : "n/a",
            us(l.cpuUsPerToken),
            fmtBytes(l.peakRss),
            mark(l.ok),
          ]),
        ),
    ),
    "",
  ];
  for (const e of a.errors ?? []) out.push(`> ${e}`, "");
  if (s.app?.disconnect) {
    const d = s.app.disconnect;
    out.push(
      `Clients that leave: ${fmtInt(d.target)} slow streams through (a), each client gone after its first token; ${d.leftOpen} upstream streams were still open ${LEAK_WAIT_MS / 1000} s later (${d.upstreamAborted} closed by the app), and \`/healthz\` ${d.healthy ? "still answered" : "did not answer"}.`,
      "",
    );
  }
  if (a.healthz) {
    out.push(
      "### `/healthz` and cold start",
      "",
      `${a.healthz.app.tool === "wrk" ? "wrk" : "A Node load loop"}, 64 connections, alternating A B A B after a 1 s warm-up; both on the same uvicorn and flags (\`${[...a.uvicornFlags, "--no-access-log"].join(" ")}\`). The one-route app is FastAPI with one route of /healthz's shape and nothing else (\`scripts/bench/minimal_fastapi.py\`).`,
      "",
      table(
        ["Server", "req/s", "p99", "errors", "CPU / request"],
        [
          ["(a) `GET /healthz`", fmtInt(a.healthz.app.rps), fmtMs(a.healthz.app.p99, 2), a.healthz.app.errors, us(a.healthz.app.cpuUsPerRequest)],
          ["one-route FastAPI `GET /healthz`", fmtInt(a.healthz.oneRoute.rps), fmtMs(a.healthz.oneRoute.p99, 2), a.healthz.oneRoute.errors, us(a.healthz.oneRoute.cpuUsPerRequest)],
        ],
      ),
      "",
    );
  }
  if (a.coldStart) {
    out.push(
      `Cold start: uvicorn spawned, \`/healthz\` polled every 5 ms until its first 200, the two apps interleaved; the first start of each (which also writes .pyc files) is discarded. (a): ${a.coldStart.app.all.map((x) => x.toFixed(0)).join(", ")} ms; one-route app: ${a.coldStart.oneRoute.all.map((x) => x.toFixed(0)).join(", ")} ms.` +
        (a.litellm ? ` LiteLLM took ${(a.litellm.startMs / 1000).toFixed(1)} s from spawn to its liveness endpoint.` : ""),
      "",
    );
  }
  if (a.importTime) {
    out.push(
      `\`python -X importtime -c "import app.main"\` (second run, warm .pyc): ${fmtMs(a.importTime.totalUs / 1000, 0)} in all; the top-level imports by cumulative time:`,
      "",
      table(
        ["Module", "Cumulative", "Self"],
        a.importTime.top.map((e) => [`\`${e.name}\``, fmtMs(e.cumulativeUs / 1000, 1), fmtMs(e.selfUs / 1000, 1)]),
      ),
      "",
    );
  }
  const ip = a.inProcess;
  if (ip) {
    out.push(
      "### In process: CPU per request without sockets",
      "",
      "`scripts/bench/inprocess.py` calls each ASGI app directly in one process (the project's Python, uvloop), with an",
      "httpx2 `MockTransport` in place of the network: no kernel and no load generator on the same cores.",
      "",
      table(
        ["Request", "CPU / request"],
        [
          ["bare ASGI `GET /healthz`", us(ip.bareAsgi)],
          ["one-route FastAPI `GET /healthz`", us(ip.oneRouteFastapi)],
          ["(a) `GET /healthz`", us(ip.healthz)],
          ["(a) `POST /v1/chat/stream`, 1 token", us(ip.stream1)],
          ["(a) one more token relayed", us(ip.perToken)],
        ],
      ),
      "",
    );
  }
  const fly = flyLimits(a);
  if (fly) {
    out.push(
      "### fly.toml concurrency from this run",
      "",
      `One worker held ${fmtInt(fly.held)} streams at 50 tokens/s on a core of this machine. Half of it for a \`shared-cpu-1x\` Machine gives \`soft_limit = ${fly.soft}\`, and 5× that (at most 800, below the openai SDK's 1,000 connections) \`hard_limit = ${fly.hard}\`; docs/container.md has the reasoning and the values shipped.`,
      "",
    );
  }
  return out;
}
