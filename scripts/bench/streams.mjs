// SSE clients: per-stream TTFT and total time at a given concurrency, and open-stream capacity.
import http from "node:http";
import { log, quantile, median, sleep } from "./util.mjs";

/** A POST of `payload` (JSON) that asks for an event stream. */
function postStream(url, payload, agent, headers = {}) {
  return http.request(url, {
    method: "POST",
    agent,
    headers: { "content-type": "application/json", accept: "text/event-stream", "content-length": Buffer.byteLength(payload), ...headers },
  });
}

/** Calls `onBlock` with each SSE block (the text between two blank lines) of a response. */
function onSseBlocks(res, onBlock) {
  let buffer = "";
  res.setEncoding("utf8");
  res.on("data", (text) => {
    buffer += text;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) !== -1) {
      onBlock(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
  });
}

/**
 * One streaming request. `isToken(block)` says whether an SSE block carries a token (or, with
 * `tokensIn(block)`, how many: a server that coalesces sends several in one event),
 * `isError(block)` whether it reports an error. Resolves to
 * { ttft, total, tokens, error } with times in ms from the request being sent. With `gaps` (an
 * array), the time between consecutive token events is pushed onto it, and with `gapAt` the
 * time (performance.now()) each gap ended.
 */
export function streamOnce({ url, body, headers, agent, isToken, tokensIn, isError = () => false, timeoutMs = 30_000, gaps, gapAt }) {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const start = performance.now();
    let ttft = NaN;
    let tokens = 0;
    let lastToken = NaN;
    let error = null;
    let settled = false;
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ttft, total: performance.now() - start, tokens, error: err ?? error });
    };
    const req = postStream(url, payload, agent, headers);
    const timer = setTimeout(() => {
      req.destroy();
      finish("timeout");
    }, timeoutMs);
    req.on("response", (res) => {
      if (res.statusCode !== 200) error = `HTTP ${res.statusCode}`;
      onSseBlocks(res, (block) => {
        const count = tokensIn ? tokensIn(block) : isToken(block) ? 1 : 0;
        if (count > 0) {
          // (gaps are between events: what a reader of the stream waits)
          const now = performance.now();
          if (tokens === 0) ttft = now - start;
          else {
            gaps?.push(now - lastToken);
            gapAt?.push(now);
          }
          lastToken = now;
          tokens += count;
        } else if (isError(block)) error = block.slice(0, 200);
      });
      res.on("end", () => finish());
      res.on("error", (e) => finish(String(e)));
    });
    req.on("error", (e) => finish(String(e.code ?? e)));
    req.end(payload);
  });
}

/**
 * Closed loop: `concurrency` workers each run streams back to back until `count` streams were
 * started in all or `deadline` passed. Returns the per-stream results.
 */
export async function runConcurrent({ concurrency, count, deadline, request }) {
  const results = [];
  let started = 0;
  const worker = async () => {
    while (started < count && Date.now() < deadline) {
      started++;
      results.push(await request());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

export function describeStreams(results) {
  const ok = results.filter((r) => !r.error && r.tokens > 0);
  const ttft = ok.map((r) => r.ttft);
  const total = ok.map((r) => r.total);
  return {
    n: results.length,
    errors: results.length - ok.length,
    firstError: results.find((r) => r.error)?.error ?? null,
    ttft: { p50: median(ttft), p99: quantile(ttft, 0.99) },
    total: { p50: median(total), p99: quantile(total, 0.99) },
    tokens: median(ok.map((r) => r.tokens)),
  };
}

/**
 * Opens `target` streams against `url` (ramping `perTick` every `tickMs`), holds them until each
 * has received `minTokens` tokens or `holdMs` passes, samples `measure()` (e.g. server RSS) while
 * all are open, then closes every stream from the client side. Bounded by `deadline`.
 */
export async function holdStreams({ url, body, headers, isToken, isError, target, perTick = 100, tickMs = 100, minTokens = 2, holdMs = 20_000, deadline, measure }) {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const streams = [];
  const openOne = () => {
    const s = { tokens: 0, error: null, status: 0, firstTokenAt: NaN, start: performance.now(), req: null, ended: false };
    const payload = JSON.stringify(body);
    const req = postStream(url, payload, agent, headers);
    s.req = req;
    req.on("response", (res) => {
      s.status = res.statusCode;
      if (res.statusCode !== 200) s.error = `HTTP ${res.statusCode}`;
      onSseBlocks(res, (block) => {
        if (isToken(block)) {
          if (s.tokens === 0) s.firstTokenAt = performance.now() - s.start;
          s.tokens++;
        } else if (isError?.(block)) s.error ??= block.slice(0, 200);
      });
      res.on("end", () => {
        s.ended = true;
      });
      res.on("error", () => {});
    });
    req.on("error", (e) => {
      if (!s.closing) s.error ??= String(e.code ?? e);
    });
    req.end(payload);
    streams.push(s);
  };

  const t0 = Date.now();
  while (streams.length < target && Date.now() < deadline) {
    for (let i = 0; i < perTick && streams.length < target; i++) openOne();
    await sleep(tickMs);
  }
  const rampMs = Date.now() - t0;
  const holdUntil = Math.min(Date.now() + holdMs, deadline);
  const ready = () => streams.filter((s) => s.tokens >= minTokens).length;
  while (Date.now() < holdUntil && ready() + streams.filter((s) => s.error).length < streams.length) await sleep(250);
  const tokensSoFar = () => streams.reduce((sum, st) => sum + st.tokens, 0);
  const sample = measure ? await measure({ tokensSoFar }) : null;
  const opened = streams.length;
  const withTokens = ready();
  const errors = streams.filter((s) => s.error);
  const endedEarly = streams.filter((s) => s.ended && !s.error).length;
  const firstTokens = streams.filter((s) => Number.isFinite(s.firstTokenAt)).map((s) => s.firstTokenAt);
  for (const s of streams) {
    s.closing = true;
    s.req.destroy();
  }
  agent.destroy();
  const result = {
    target,
    opened,
    withTokens,
    errors: errors.length,
    firstError: errors[0]?.error ?? null,
    endedEarly,
    rampMs,
    firstTokenP50: median(firstTokens),
    firstTokenP99: quantile(firstTokens, 0.99),
    sample,
  };
  log(`held ${withTokens}/${target} streams with ≥${minTokens} tokens, ${errors.length} errors`);
  return result;
}
