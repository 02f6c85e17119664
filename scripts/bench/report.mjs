// Turns the results into the console summary (ratios) and docs/benchmarks.md.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fmtBytes, fmtInt, fmtMs, fmtRatio, fmtS, table } from "./util.mjs";
import { COMPETITORS } from "./scaffold.mjs";

const TARGET = {
  healthRatio: 0.5,
  addedP50: 1,
  addedP99: 5,
  streams: 1000,
};
const mark = (ok) => (ok === undefined || ok === null ? "" : ok ? "✅" : "❌");

/** The figures each target is judged on, shared by the summary and the document. */
export function ratios(results) {
  const out = {};
  const s = results.sections;
  if (s.scaffold) {
    const by = Object.fromEntries(s.scaffold.results.map((r) => [r.id, r]));
    const ours = by["create-fly-fastapi"];
    const vite = by["create-vite"];
    const floor = by["node -e 0"];
    out.scaffold = {
      ours: ours.p50,
      vite: vite.p50,
      floor: floor.p50,
      ratio: ours.p50 / vite.p50,
      aboveFloorRatio: vite.p50 - floor.p50 > 1 ? (ours.p50 - floor.p50) / (vite.p50 - floor.p50) : NaN,
      ok: ours.p50 <= vite.p50,
    };
  }
  if (s.npm) {
    const exec = Object.fromEntries(s.npm.exec.map((e) => [e.id, e]));
    const ours = s.npm.exec.find((e) => e.ours);
    const viteLocal = s.npm.exec.find((e) => !e.ours && !e.registry);
    const viteReg = s.npm.exec.find((e) => e.registry);
    out.npm = {
      tarball: s.npm.tarballs.ours.size,
      viteTarball: s.npm.tarballs.vite.size,
      packages: s.npm.footprint.ours.packages,
      installBytes: s.npm.footprint.ours.bytes,
      execOurs: ours?.p50,
      execViteLocal: viteLocal?.p50,
      execViteRegistry: viteReg?.p50,
      ratio: ours?.p50 / viteLocal?.p50,
      ok: s.npm.footprint.ours.packages === 1 && ours?.p50 <= viteLocal?.p50,
      exec,
    };
  }
  if (s.app) {
    const tp = s.app.throughput;
    // A run where more than 1 % of the answers were errors (e.g. 429s) measured the errors: no ratio.
    const valid = (m) => m && m.errors <= 0.01 * m.requests;
    const ratio = (a, b) => (valid(a) && valid(b) ? a.rps / b.rps : NaN);
    out.throughput = {
      // Against the ceiling on the app's own flags (uvicorn's access log on, which the app turns off)...
      health: ratio(tp.appHealth, tp.bareHealth),
      // ...and against the strict ceiling (no access log), with any FastAPI route's floor beside it.
      healthStrict: ratio(tp.appHealthStrict, tp.bareQuietHealth),
      floor: ratio(tp.floorHealth, tp.bareQuietHealth2),
      mockChat: ratio(tp.mockChat, tp.bareChat),
      upstreamChat: ratio(tp.upstreamChat, tp.bareChat),
    };
    // Judged on the strict ceiling when it was measured.
    out.throughput.ok = (Number.isFinite(out.throughput.healthStrict) ? out.throughput.healthStrict : out.throughput.health) >= TARGET.healthRatio;
    out.streaming = (s.app.streaming ?? []).map((row) => ({
      concurrency: row.concurrency,
      ...row.added,
      errors: row.app.errors,
      ok:
        row.app.errors === 0 &&
        Math.max(row.added.ttftP50, row.added.totalP50) <= TARGET.addedP50 &&
        Math.max(row.added.ttftP99, row.added.totalP99) <= TARGET.addedP99,
    }));
    const held = (s.app.capacity ?? []).filter((c) => c.ok);
    const best = held.at(-1);
    const tried = (s.app.capacity ?? []).filter((c) => !c.skipped);
    out.capacity = {
      streams: best?.target ?? 0,
      tried: tried.map((c) => c.target),
      perStreamBytes: best?.perStreamBytes,
      ok: (best?.target ?? 0) >= TARGET.streams,
      // Upstream streams still open some seconds after every client disconnected, per level.
      leakWaitS: s.app.leakWaitS ?? 5,
      leftOpen: tried.map((c) => `${c.upstreamLeftOpen ?? "?"}/${c.target}`),
      leakFree: tried.every((c) => c.upstreamLeftOpen === 0),
    };
  }
  return out;
}

export function renderSummary(results) {
  const r = ratios(results);
  const lines = [`create-fly-fastapi benchmark (${results.mode}, ${(results.elapsedMs / 1000).toFixed(0)} s) — informational, never pass/fail`];
  if (r.scaffold) {
    lines.push(
      `scaffold p50: ours ${fmtS(r.scaffold.ours)} vs create-vite ${fmtS(r.scaffold.vite)} (floor node -e 0 ${fmtS(r.scaffold.floor)}): ` +
        `${fmtRatio(r.scaffold.ratio)} of create-vite, ${fmtRatio(r.scaffold.aboveFloorRatio)} above the floor ${mark(r.scaffold.ok)}`,
    );
  }
  if (r.npm) {
    lines.push(
      `npm: tarball ${fmtBytes(r.npm.tarball)} (create-vite ${fmtBytes(r.npm.viteTarball)}), ${r.npm.packages} package(s), ${fmtBytes(r.npm.installBytes)} installed; ` +
        `cold npm exec ${fmtS(r.npm.execOurs)} vs create-vite ${fmtS(r.npm.execViteLocal)} (local registry) / ${fmtS(r.npm.execViteRegistry)} (public registry): ${fmtRatio(r.npm.ratio)} ${mark(r.npm.ok)}`,
    );
  }
  if (r.throughput) {
    lines.push(
      `throughput vs bare ASGI: /healthz ${fmtRatio(r.throughput.healthStrict)} of the strict ceiling (target ≥ ${TARGET.healthRatio}) ${mark(r.throughput.ok)}, ` +
        `${fmtRatio(r.throughput.health)} on the same flags; a one-route FastAPI app ${fmtRatio(r.throughput.floor)}; ` +
        `/v1/chat mock ${fmtRatio(r.throughput.mockChat)}, via upstream ${fmtRatio(r.throughput.upstreamChat)}`,
    );
  }
  for (const row of r.streaming ?? []) {
    lines.push(
      `streams ×${row.concurrency}: added TTFT p50 ${fmtMs(row.ttftP50)} p99 ${fmtMs(row.ttftP99)}; total p50 ${fmtMs(row.totalP50)} p99 ${fmtMs(row.totalP99)}; errors ${row.errors} ${mark(row.ok)}`,
    );
  }
  if (r.capacity) {
    lines.push(
      `capacity: ${fmtInt(r.capacity.streams)} slow streams held by one worker (tried ${r.capacity.tried.join(", ")}), ${fmtBytes(r.capacity.perStreamBytes)} RSS per stream ${mark(r.capacity.ok)}`,
      `upstream streams still open ${r.capacity.leakWaitS} s after their clients left: ${r.capacity.leftOpen.join(", ")} ${mark(r.capacity.leakFree)}`,
    );
  }
  for (const e of results.errors) lines.push(`section ${e.section} failed: ${e.message.split("\n")[0]}`);
  return lines.join("\n");
}

/**
 * Fly.io concurrency limits the measured capacity supports. Fly counts requests (an open SSE
 * stream is one request) per Machine; past soft_limit its proxy prefers other Machines (and
 * auto-starts stopped ones), at hard_limit it stops sending more to this one.
 */
export function flyLimits(results) {
  const app = results.sections.app;
  if (!app?.capacity?.length) return null;
  const tried = app.capacity.filter((c) => !c.skipped);
  const held = tried.filter((c) => c.ok);
  const best = held.at(-1);
  const failed = tried.find((c) => !c.ok);
  const ref = best ?? tried.at(-1);
  const perStream = ref?.perStreamBytes ?? null;
  const idle = ref?.idleRss ?? null;
  // Steady-state CPU per relayed token, from the capacity runs (many slow streams open).
  const perTokenList = tried.map((c) => c.cpuMsPerToken).filter((x) => Number.isFinite(x) && x > 0);
  const perToken = perTokenList.length ? Math.max(...perTokenList) : null;
  // CPU to open and close one stream: the 1-client streaming run minus its tokens.
  const single = (app.streaming ?? []).find((row) => row.concurrency === 1);
  const shape = app.streamShape ?? { tokens: 16 };
  const openCost = single?.appCpuMsPerStream && perToken ? Math.max(0, single.appCpuMsPerStream - shape.tokens * perToken) : null;
  // A typical answer: 50 tokens/s for 10 s. CPU per second of such a stream, then how many fit
  // in 70 % of one core.
  const cpuPerStreamSecond = perToken ? 50 * perToken + (openCost ?? 0) / 10 : null;
  const streamsPerCore = cpuPerStreamSecond ? (0.7 * 1000) / cpuPerStreamSecond : null;
  const poolCap = app.sdkMaxConnections ?? null;
  const memFor = (mib) => (perStream && idle ? Math.floor((mib * 1024 * 1024 * 0.8 - idle) / perStream) : null);
  const nice = (n) => (n >= 100 ? Math.floor(n / 50) * 50 : Math.max(5, Math.floor(n / 5) * 5));
  const soft = streamsPerCore ? nice(streamsPerCore) : null;
  // hard_limit: room for bursts and slow (still thinking) streams, 5× soft_limit, but at most half
  // of what one worker held here, 80 % of the SDK's pool, and what memory allows.
  const hardCandidates = [soft ? soft * 5 : null, best ? best.target / 2 : null, poolCap ? poolCap * 0.8 : null, memFor(512)].filter((x) => x);
  const hard = hardCandidates.length ? nice(Math.min(...hardCandidates)) : null;
  return { held: best?.target ?? 0, failedAt: failed?.target ?? null, perStream, idle, perToken, openCost, streamsPerCore, poolCap, mem512: memFor(512), soft, hard };
}

function flyAdvice(f) {
  const lines = [];
  lines.push(
    `- Holding: one uvicorn worker held ${fmtInt(f.held)} slow streams with no error` +
      (f.failedAt ? ` and failed at ${fmtInt(f.failedAt)}` : " (the largest level tried)") +
      `; each open stream costs ${fmtBytes(f.perStream)} of RSS on top of ${fmtBytes(f.idle)} idle, so a 512 MB Machine` +
      ` has memory for ~${fmtInt(f.mem512)} (80 % of RAM): memory is not the limit.`,
  );
  if (f.poolCap) {
    lines.push(
      `- The openai SDK's default pool allows ${fmtInt(f.poolCap)} connections per client (one per open stream); a stream` +
        " beyond that waits for a free connection (up to READ_TIMEOUT) before its first token. hard_limit must stay below it.",
    );
  }
  if (f.perToken) {
    lines.push(
      `- CPU: relaying a token costs the app ~${fmtMs(f.perToken, 2)} and opening a stream ~${fmtMs(f.openCost ?? NaN, 1)} here, so a stream` +
        ` at 50 tokens/s for 10 s needs ~${fmtMs(50 * f.perToken + (f.openCost ?? 0) / 10, 0)} of CPU a second: ~${fmtInt(f.streamsPerCore)} such streams fill 70 % of one` +
        " dedicated core. A `shared-cpu-1x` Machine is guaranteed only a fraction of a core (it bursts above that for a while),",
      "  so CPU, not memory or sockets, bounds how many streams one Machine serves well; slower or mostly-waiting streams (long",
      "  time to first token) fit many more.",
    );
  }
  if (f.soft && f.hard) {
    lines.push(
      "",
      `From this run's figures, for one worker: \`type = "requests"\`, \`soft_limit = ${f.soft}\` (the streams at 50 tokens/s that 70 % of a core relays),` +
        ` \`hard_limit = ${f.hard}\` (5× soft_limit for bursts and slow streams, capped at half the slow streams held here and below the SDK's pool).`,
      "Past soft_limit Fly prefers (and starts) other Machines, so soft_limit is what keeps token latency low; hard_limit protects the",
      "Machine. CPU figures move with machine load: see the analysis below for the values we recommend.",
    );
  }
  return lines;
}

export function renderMarkdown(results) {
  const m = results.machine;
  const s = results.sections;
  const r = ratios(results);
  const out = [];
  out.push(
    "# Benchmarks",
    "",
    "Generated by `npm run bench` (scripts/bench.mjs); do not edit by hand. Figures are from one run on the",
    "machine below: compare ratios, not absolute times, across machines.",
    "",
    `- Date: ${results.date.slice(0, 10)}; mode: ${results.mode}; the whole run took ${(results.elapsedMs / 1000).toFixed(0)} s.`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; \`ulimit -n\` ${m.nofile}.`,
    `- Node ${m.node}, npm ${m.npm}, ${m.python}${s.app?.versions ? `; generated project: Python ${s.app.versions}` : ""}.`,
    `- How busy the machine was during each section (all processes, the benchmark's own included; other work on a shared machine slows every figure): ${Object.entries(
      results.load ?? {},
    )
      .map(([name, l]) => `${name} ${Number.isFinite(l.busy) ? `${Math.round(l.busy * 100)} %` : "n/a"}${Number.isFinite(l.busyBefore) ? ` (${Math.round(l.busyBefore * 100)} % just before)` : ""}`)
      .join(", ")}.`,
    "",
    "## Summary against the targets of issue #7",
    "",
  );
  const rows = [];
  if (r.scaffold) rows.push(["Scaffold, `--yes` defaults (p50)", "≤ create-vite", `${fmtS(r.scaffold.ours)} vs ${fmtS(r.scaffold.vite)} (${fmtRatio(r.scaffold.ratio)})`, mark(r.scaffold.ok)]);
  if (r.npm) {
    rows.push(["Packages installed by `npm create`", "1", String(r.npm.packages), mark(r.npm.packages === 1)]);
    rows.push([
      "Cold `npm exec` (empty npm cache, p50)",
      "≤ create-vite",
      `${fmtS(r.npm.execOurs)} vs ${fmtS(r.npm.execViteLocal)}, both from a local registry (${fmtRatio(r.npm.ratio)}); create-vite ${fmtS(r.npm.execViteRegistry)} from the public registry`,
      mark(r.npm.execOurs <= r.npm.execViteLocal),
    ]);
  }
  if (r.throughput) {
    rows.push([
      "`GET /healthz` throughput / bare ASGI",
      `≥ ${TARGET.healthRatio}`,
      `${fmtRatio(r.throughput.healthStrict)} of a bare app without access log; ${fmtRatio(r.throughput.health)} of one on the app's flags (uvicorn's access log on, which the app turns off); a one-route FastAPI app: ${fmtRatio(r.throughput.floor)} of the first`,
      mark(r.throughput.ok),
    ]);
  }
  for (const row of r.streaming ?? []) {
    rows.push([
      `Streaming overhead, ${row.concurrency} concurrent`,
      `p50 ≤ ${TARGET.addedP50} ms, p99 ≤ ${TARGET.addedP99} ms`,
      `TTFT +${fmtMs(row.ttftP50)} / +${fmtMs(row.ttftP99)}; total +${fmtMs(row.totalP50)} / +${fmtMs(row.totalP99)}`,
      mark(row.ok),
    ]);
  }
  if (r.capacity) {
    rows.push(["Open slow streams, one worker", `≥ ${fmtInt(TARGET.streams)}`, `${fmtInt(r.capacity.streams)} (tried ${r.capacity.tried.join(", ")})`, mark(r.capacity.ok)]);
    rows.push([`Upstream streams left open ${r.capacity.leakWaitS} s after their clients left`, "0", r.capacity.leftOpen.join(", "), mark(r.capacity.leakFree)]);
  }
  out.push(table(["Measure", "Target", "Measured", ""], rows), "");
  for (const e of results.errors) out.push(`> Section \`${e.section}\` failed in this run: ${e.message.split("\n")[0]}`, "");

  if (s.scaffold) {
    out.push(
      "## Scaffolder wall time",
      "",
      `Wall time from spawn to exit, ${s.scaffold.rounds} rounds after warm-up, tools interleaved round-robin; each run writes a`,
      "new directory with installs and git off, so the last file is written just before exit. Every tool runs as",
      "`node <its bin file>` (no npx, no shim). Competitors are installed from npm into `.cache/bench/tools`.",
      "",
      table(
        ["Tool", "Flags", "p50", "min", "p90", "Files", "Bytes written"],
        s.scaffold.results.map((t) => [
          t.version ? `${t.id} ${t.version}` : t.id,
          t.ours ? "`--yes --no-install --no-git`" : t.flags ? `\`${t.flags}\`` : "",
          fmtS(t.p50),
          fmtS(t.min),
          fmtS(t.p90),
          t.floor ? "" : String(t.files),
          t.floor ? "" : fmtBytes(t.bytes),
        ]),
      ),
      "",
    );
    if (s.scaffold.breakdown) {
      out.push(
        "Where our time goes (p50 of each command; the step is the difference to the line above):",
        "",
        table(["Command", "p50", "Step"], s.scaffold.breakdown.map((b) => [b.id, fmtS(b.p50), fmtMs(b.delta)])),
        "",
      );
    }
    const prof = s.scaffold.profile;
    if (prof) {
      out.push(
        `CPU profile (\`node --cpu-prof\`, 100 µs sampling, mean of ${prof.runs} runs of an unminified build of the same bundle;`,
        `${fmtMs(prof.sampledMs)} sampled of ${fmtMs(prof.wallMs)} wall; the shipped bundle is ${fmtBytes(prof.bundleBytes)}). Self time by source:`,
        "",
        table(["Where", "ms", "Share"], prof.groups.map((g) => [g.name, g.ms.toFixed(1), `${(g.share * 100).toFixed(0)}%`])),
        "",
        `What the shipped bundle is made of (minified bytes by package): ${prof.composition
          .slice(0, 10)
          .map((c) => `${c.name} ${fmtBytes(c.bytes)}`)
          .join(", ")}.`,
        "",
        "Top functions by self time:",
        "",
        table(["Function — where", "ms", "Share"], prof.functions.map((g) => [g.name, g.ms.toFixed(1), `${(g.share * 100).toFixed(0)}%`])),
        "",
      );
    }
  }

  if (s.npm) {
    const n = s.npm;
    out.push(
      "## What `npm create fly-fastapi` costs a first-time user",
      "",
      table(
        ["Package", "Tarball", "Unpacked", "Files", "Packages installed", "Bytes installed"],
        [
          [`${n.tarballs.ours.name} ${n.tarballs.ours.version}`, fmtBytes(n.tarballs.ours.size), fmtBytes(n.tarballs.ours.unpackedSize), n.tarballs.ours.entryCount, n.footprint.ours.packages, fmtBytes(n.footprint.ours.bytes)],
          [`${n.tarballs.vite.name} ${n.tarballs.vite.version}`, fmtBytes(n.tarballs.vite.size), fmtBytes(n.tarballs.vite.unpackedSize), n.tarballs.vite.entryCount, n.footprint.vite.packages, fmtBytes(n.footprint.vite.bytes)],
        ],
      ),
      "",
      `Largest files in our tarball: ${n.tarballs.ours.largest.map((f) => `\`${f.path}\` ${fmtBytes(f.size)}`).join(", ")}.`,
      "",
      "Cold `npm exec --yes --cache <empty dir> --package <spec> -- <bin> app …` from an empty directory (what",
      "`npm create` does for a first-time user), creating a project:",
      "",
      table(
        ["Package", "Runs", "p50", "all runs"],
        n.exec.map((e) => [e.id, `${e.n}${e.failures ? ` (${e.failures} failed)` : ""}`, fmtS(e.p50), e.times.map((t) => (t / 1000).toFixed(2)).join(", ")]),
      ),
      "",
      "Ours is not published yet, so both packed tarballs are served by a minimal registry on 127.0.0.1",
      "(`scripts/bench/registry.mjs`: packument, tarball, integrity): that pair is the like-for-like comparison,",
      "with no network in either. The public-registry figure is what a user of create-vite sees today.",
      "",
    );
  }

  if (s.app) {
    const a = s.app;
    const tp = a.throughput;
    const lt = (x) => (x ? [fmtInt(x.rps), fmtMs(x.p50, 2), fmtMs(x.p99, 2), String(x.errors), x.cpuMsPerRequest ? fmtMs(x.cpuMsPerRequest, 2) : "n/a"] : ["n/a", "", "", "", ""]);
    out.push(
      "## The generated app",
      "",
      `The default project (\`--yes\`, mock provider) is generated into \`.cache/bench/projects/default\` and installed with`,
      "`uv sync`. It is served by its own uvicorn on 127.0.0.1 with one worker" +
        (a.uvicornFlags.length ? ` and the Dockerfile's flags \`${a.uvicornFlags.join(" ")}\`` : "") +
        ". The upstream is the benchmark's own",
      "fake OpenAI-compatible server (Node, `scripts/bench/upstream.mjs`, `chat.completion.chunk` events and `data: [DONE]`);",
      "the app is pointed at it the way a user would: `PROVIDER=openai-compatible BASE_URL=http://127.0.0.1:<port>/v1 MODEL=… INFERENCE_API_KEY=…`.",
      "Every app runs with `RATE_LIMIT=1000000/second`: the per-client limit (60/minute by default) stays on, so its cost is",
      "measured, but never trips, since all the load comes from one address.",
      "",
      "### Throughput",
      "",
      `${tp.bareHealth?.tool === "wrk" ? "wrk" : "A Node keep-alive load loop"}, 1 thread, ${a.connections} connections, ${a.seconds} s per endpoint in two halves alternating with its`,
      "ceiling (A B A B, each after a 1 s warm-up). The ceiling is a bare ASGI app (`scripts/bench/bare_asgi.py`, no",
      "framework) on the same uvicorn and flags. The app turns uvicorn's access log off (its own JSON line replaces it, and a",
      "successful /healthz is not logged), so the ceiling runs twice: on the same flags, access log on, and with",
      "`--no-access-log`, the strict ceiling. The framework floor is FastAPI with one route of the same shape and nothing",
      "else (`scripts/bench/minimal_fastapi.py`): what any FastAPI route costs here. All processes share the 2 cores, so",
      "req/s moves with machine load; the server's CPU time per request (from /proc) is the steadier figure.",
      "",
      table(
        ["Endpoint", "req/s", "p50", "p99", "errors", "server CPU / request", "/ ceiling"],
        [
          ["bare ASGI GET, the app's flags (access log on)", ...lt(tp.bareHealth), "1.00×"],
          ["`GET /healthz`", ...lt(tp.appHealth), fmtRatio(r.throughput.health)],
          ...(tp.bareQuietHealth
            ? [
                ["bare ASGI GET, `--no-access-log` (strict ceiling)", ...lt(tp.bareQuietHealth), "1.00×"],
                ["`GET /healthz`", ...lt(tp.appHealthStrict), fmtRatio(r.throughput.healthStrict)],
                ["bare ASGI GET, `--no-access-log`", ...lt(tp.bareQuietHealth2), "1.00×"],
                ["one-route FastAPI `GET /healthz` (framework floor), `--no-access-log`", ...lt(tp.floorHealth), fmtRatio(r.throughput.floor)],
              ]
            : []),
          ["bare ASGI POST (ceiling)", ...lt(tp.bareChat), "1.00×"],
          ["`POST /v1/chat`, mock (`MOCK_TOKEN_DELAY=0`)", ...lt(tp.mockChat), fmtRatio(r.throughput.mockChat)],
          ["`POST /v1/chat`, fake upstream (16 tokens, unpaced)", ...lt(tp.upstreamChat), fmtRatio(r.throughput.upstreamChat)],
        ],
      ),
      "",
    );
    const ip = a.inProcess;
    if (ip) {
      const us = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} µs` : "n/a");
      out.push(
        "### In process: CPU per request without sockets",
        "",
        "`scripts/bench/inprocess.py` calls each ASGI app directly in one process (the project's Python, uvloop), with the",
        "app's own shared openai client and an httpx2 `MockTransport` in place of the network: no kernel and no load",
        "generator on the same cores, so these move less with machine load than the figures above. A stream's cost is",
        "measured with 1 and with 33 tokens from the upstream; the difference is the cost of relaying one token.",
        "",
        table(
          ["Request", "CPU / request", "× bare ASGI"],
          [
            ["bare ASGI `GET /healthz`", us(ip.bareAsgi), "1×"],
            ["one-route FastAPI `GET /healthz` (framework floor)", us(ip.oneRouteFastapi), `${Math.round(ip.oneRouteFastapi / ip.bareAsgi)}×`],
            ["`GET /healthz`", us(ip.healthz), `${Math.round(ip.healthz / ip.bareAsgi)}×`],
            ["`POST /v1/chat/stream`, 1 token", us(ip.stream1), ""],
            ["`POST /v1/chat/stream`, 33 tokens", us(ip.stream33), ""],
            ["one more token relayed", us(ip.perToken), ""],
          ],
        ),
        "",
      );
    }
    if (a.streaming?.length) {
      const shape = a.streamShape;
      out.push(
        "### Streaming overhead",
        "",
        `Each stream: ${shape.tokens} tokens, the first after ${shape.firstTokenMs} ms and then every ${shape.intervalMs} ms (a fast hosted model).`,
        "A closed loop of N clients (Node, keep-alive) reads `POST /v1/chat/stream` through the app, and the same",
        "number straight from the fake upstream's `/v1/chat/completions`; TTFT is the time to the first token event,",
        "total the time to the end of the response. One warm-up round per level is discarded.",
        "",
        table(
          ["Concurrent", "Streams", "TTFT p50 direct → app", "TTFT p99 direct → app", "Total p50 direct → app", "Total p99 direct → app", "Added p50 / p99 (TTFT)", "App CPU / token", "Errors"],
          a.streaming.map((row) => [
            row.concurrency,
            row.app.n,
            `${fmtMs(row.direct.ttft.p50)} → ${fmtMs(row.app.ttft.p50)}`,
            `${fmtMs(row.direct.ttft.p99)} → ${fmtMs(row.app.ttft.p99)}`,
            `${fmtMs(row.direct.total.p50)} → ${fmtMs(row.app.total.p50)}`,
            `${fmtMs(row.direct.total.p99)} → ${fmtMs(row.app.total.p99)}`,
            `${fmtMs(row.added.ttftP50)} / ${fmtMs(row.added.ttftP99)}`,
            row.appCpuMsPerToken ? fmtMs(row.appCpuMsPerToken, 3) : "n/a",
            `${row.app.errors}${row.app.firstError ? ` (${row.app.firstError.slice(0, 60)})` : ""}`,
          ]),
        ),
        "",
      );
    }
    if (a.capacity?.length) {
      const slow = a.slowShape;
      out.push(
        "### Capacity: open streams one worker holds",
        "",
        `A slow upstream (1 token every ${slow.intervalMs / 1000} s). For each level a fresh 1-worker app is warmed up, its idle RSS read, then the`,
        "streams are opened (50 a second) and held until each has received 2 tokens (at most 20 s). Then RSS",
        "and open file descriptors are read and the app's CPU is sampled for 3 s; then every client disconnects, the",
        `upstream counts the streams the app has not closed ${a.leakWaitS ?? 5} s later, and \`/healthz\` must still answer. A level passes`,
        "when every stream got its tokens with no error; the run stops at the first level that fails.",
        "",
        table(
          ["Streams", "With ≥ 2 tokens", "Errors", "First token p50 / p99", "Idle RSS", "RSS held", "RSS / stream", "App fds", "App CPU (of 1 core)", "CPU / token", `Upstream left open after ${a.leakWaitS ?? 5} s`, "OK"],
          a.capacity.map((c) =>
            c.skipped
              ? [c.target, c.skipped, "", "", "", "", "", "", "", "", "", ""]
              : [
                  fmtInt(c.target),
                  fmtInt(c.withTokens),
                  `${c.errors}${c.firstError ? ` (${c.firstError.slice(0, 60)})` : ""}`,
                  `${fmtMs(c.firstTokenP50, 0)} / ${fmtMs(c.firstTokenP99, 0)}`,
                  fmtBytes(c.idleRss),
                  fmtBytes(c.rss),
                  fmtBytes(c.perStreamBytes),
                  fmtInt(c.fds),
                  Number.isFinite(c.cpuShare) ? `${(c.cpuShare * 100).toFixed(0)} %` : "n/a",
                  Number.isFinite(c.cpuMsPerToken) ? fmtMs(c.cpuMsPerToken, 2) : "n/a",
                  fmtInt(c.upstreamLeftOpen),
                  mark(c.ok),
                ],
          ),
        ),
        "",
      );
      const fly = flyLimits(results);
      if (fly) {
        out.push("### fly.toml concurrency", "");
        out.push(...flyAdvice(fly), "");
      }
    }
  }

  // Hand-written analysis (profiles, experiments, proposals) kept beside the generator.
  const notes = path.join(path.dirname(fileURLToPath(import.meta.url)), "notes.md");
  if (fs.existsSync(notes)) out.push(fs.readFileSync(notes, "utf8").trim(), "");

  out.push(
    "## Reproduce",
    "",
    "```sh",
    "npm ci",
    "npm run bench             # everything, < 10 min on 2 cores; rewrites this file",
    "npm run bench -- --quick  # the CI subset, < ~2 min; prints the ratios, writes nothing here",
    "```",
    "",
    "Needs Node ≥ 20.12, Python ≥ 3.11 and `wrk` (`apt-get install wrk`; as root the benchmark installs it itself,",
    "and without it falls back to a slower Node load loop). It installs the pinned competitors",
    `(${Object.entries(COMPETITORS).map(([n, v]) => `${n}@${v}`).join(", ")}) from npm into \`.cache/bench/tools\`, uv from PyPI into`,
    "`.cache/bench/uv`, and the generated project's dependencies with `uv sync`. All traffic stays on 127.0.0.1; every",
    "loop is bounded in count and time. Raw figures: `.cache/bench/results-full.json`. `--only=scaffold,npm,app` runs",
    "some sections.",
    "",
  );
  return out.join("\n");
}
