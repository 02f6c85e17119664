/**
 * The smoke test of a deployed app: GET /healthz, then one real SSE stream on
 * POST /v1/chat/stream (events `delta` {"text"}, `done`, `error` {"code","message"}).
 * Exported for the end-to-end suite, which runs it against a generated app.
 */

/** Overrides the origin the deploy smoke-tests (tests point it at a local server). */
export const SMOKE_ORIGIN_ENV = "CREATE_FLY_FASTAPI_SMOKE_ORIGIN";

export interface SmokeResult {
  origin: string;
  healthz: { status: number; ms: number };
  /** Null when the app wants an API key the deploy does not know (`auth` says so). */
  stream: {
    /** From sending the request to the first event (keep-alive comments do not count). */
    firstEventMs: number;
    /** From sending the request to the `done` event. */
    totalMs: number;
    /** The median time between one event and the next (the pace a reader sees). */
    medianGapMs: number;
    deltas: number;
    text: string;
  } | null;
  /** With an API key: how the app treated a request without it. */
  auth?: string;
}

export interface SmokeOptions {
  /** Bound on the whole stream, and on each health check. */
  timeoutMs?: number;
  /** Health checks tried while the proxy still answers 502-504 or the name does not resolve yet. */
  healthAttempts?: number;
  retryDelayMs?: number;
  prompt?: string;
  /**
   * The app's API key, sent as `Authorization: Bearer`. Null: the app wants a key this run does
   * not know, so the smoke test checks that a stream without one gets 401 instead.
   */
  apiKey?: string | null;
}

export class SmokeError extends Error {
  override name = "SmokeError";
}

/** What a browser sends (Chromium's value); Fly's proxy compresses, and so buffers, for any of these. */
export const BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd";

/** A stream shorter than this is not judged for bunching: at that speed nobody sees the difference. */
const BUNCHING_MIN_MS = 1_000;
const BUNCHING_MIN_EVENTS = 4;

/**
 * Why the events arrived bunched, or undefined when they came spread out. Bunched: most of them
 * in the last tenth of the stream time, as a proxy that buffers the response delivers them.
 * `arrivals`: when each event arrived, ms since the request was sent.
 */
export function bunching(arrivals: readonly number[]): string | undefined {
  const total = arrivals.at(-1) ?? 0;
  if (arrivals.length < BUNCHING_MIN_EVENTS || total < BUNCHING_MIN_MS) return undefined;
  const late = arrivals.filter((ms) => ms >= total * 0.9).length;
  if (late * 2 <= arrivals.length) return undefined;
  return `the events arrived bunched: ${late} of ${arrivals.length} in the last ${Math.round(total / 10)} ms of ${Math.round(total)} ms, as from a proxy that buffers the response; the app's streams must send Content-Encoding: none`;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface SseEvent {
  event: string;
  data: string;
}

/** Splits complete SSE blocks off `buffer`; comments (`: ping`) yield no event. */
function takeEvents(buffer: string): { events: SseEvent[]; rest: string } {
  const blocks = buffer.replace(/\r\n?/g, "\n").split("\n\n");
  const rest = blocks.pop() ?? "";
  const events: SseEvent[] = [];
  for (const block of blocks) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length > 0 || block.split("\n").some((l) => l.startsWith("event:"))) events.push({ event, data: data.join("\n") });
  }
  return { events, rest };
}

const since = (start: number) => Math.round(performance.now() - start);
const elapsed = (start: number) => performance.now() - start;

async function checkHealth(origin: string, timeoutMs: number, attempts: number, retryDelayMs: number) {
  let last = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const start = performance.now();
    try {
      const response = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel();
      if (response.ok) return { status: response.status, ms: since(start) };
      last = `GET /healthz answered ${response.status}`;
      if (![502, 503, 504].includes(response.status)) break;
    } catch (error) {
      last = `GET /healthz failed: ${(error as Error).cause ? String((error as Error & { cause: Error }).cause.message) : (error as Error).message}`;
    }
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
  }
  throw new SmokeError(last);
}

/** Checks /healthz, then reads one chat stream to its `done` event; throws SmokeError saying what broke. */
export async function smokeTest(origin: string, options: SmokeOptions = {}): Promise<SmokeResult> {
  const { timeoutMs = 60_000, healthAttempts = 10, retryDelayMs = 3_000, prompt = "Say hello from Fly.io in five words." } = options;
  const base = origin.replace(/\/+$/, "");
  const healthz = await checkHealth(base, timeoutMs, healthAttempts, retryDelayMs);
  const auth: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  if (options.apiKey === null) {
    const refused = await fetch(`${base}/v1/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: prompt }] }),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((error: Error) => {
      throw new SmokeError(`POST /v1/chat/stream failed: ${error.message}`);
    });
    await refused.body?.cancel();
    if (refused.status !== 401) throw new SmokeError(`POST /v1/chat/stream without an API key answered ${refused.status}, not 401`);
    return { origin: base, healthz, stream: null, auth: "401 without a key" };
  }

  const start = performance.now();
  let response: Response;
  try {
    response = await fetch(`${base}/v1/chat/stream`, {
      method: "POST",
      // As a browser or the openai SDK asks: through Fly's proxy this is what decides compression.
      headers: { "content-type": "application/json", accept: "text/event-stream", "accept-encoding": BROWSER_ACCEPT_ENCODING, ...auth },
      body: JSON.stringify({ messages: [{ role: "user", content: prompt }] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new SmokeError(`POST /v1/chat/stream failed: ${(error as Error).message}`);
  }
  if (response.status !== 200) {
    const body = (await response.text().catch(() => "")).slice(0, 200);
    throw new SmokeError(`POST /v1/chat/stream answered ${response.status}${body ? `: ${body}` : ""}`);
  }
  if (!response.headers.get("content-type")?.includes("text/event-stream")) {
    await response.body?.cancel();
    throw new SmokeError(`POST /v1/chat/stream answered ${response.headers.get("content-type") ?? "no content type"}, not text/event-stream`);
  }
  const encoding = response.headers.get("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "none" && encoding !== "identity") {
    await response.body?.cancel();
    throw new SmokeError(
      `the stream came back compressed (Content-Encoding: ${encoding}): the proxy buffers a response to compress it, so its events arrive together at the end; the app's streams must send Content-Encoding: none`,
    );
  }

  let firstEventMs: number | undefined;
  const arrivals: number[] = [];
  let text = "";
  let deltas = 0;
  let buffer = "";
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new SmokeError(`the stream ended without a done event after ${deltas} deltas`);
      const parsed = takeEvents(buffer + value);
      buffer = parsed.rest;
      for (const event of parsed.events) {
        firstEventMs ??= since(start);
        arrivals.push(elapsed(start));
        if (event.event === "delta") {
          deltas++;
          text += (JSON.parse(event.data) as { text?: string }).text ?? "";
        } else if (event.event === "error") {
          const error = JSON.parse(event.data) as { code?: string; message?: string };
          throw new SmokeError(`the stream sent an error event: ${error.code ?? "error"}: ${error.message ?? ""}`.trim());
        } else if (event.event === "done") {
          const problem = bunching(arrivals);
          if (problem) throw new SmokeError(problem);
          const gaps = arrivals.slice(1).map((ms, i) => ms - arrivals[i]!);
          const stream = { firstEventMs, totalMs: since(start), medianGapMs: Math.round(median(gaps) * 10) / 10, deltas, text };
          return { origin: base, healthz, stream, ...(options.apiKey ? { auth: "key accepted" } : {}) };
        }
      }
    }
  } catch (error) {
    if (error instanceof SmokeError) throw error;
    if ((error as Error).name === "TimeoutError") throw new SmokeError(`no done event within ${timeoutMs} ms`);
    throw new SmokeError(`reading the stream failed: ${(error as Error).message}`);
  } finally {
    await reader.cancel().catch(() => {});
  }
}
