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
      headers: { "content-type": "application/json", accept: "text/event-stream", ...auth },
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

  let firstEventMs: number | undefined;
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
        if (event.event === "delta") {
          deltas++;
          text += (JSON.parse(event.data) as { text?: string }).text ?? "";
        } else if (event.event === "error") {
          const error = JSON.parse(event.data) as { code?: string; message?: string };
          throw new SmokeError(`the stream sent an error event: ${error.code ?? "error"}: ${error.message ?? ""}`.trim());
        } else if (event.event === "done") {
          const stream = { firstEventMs, totalMs: since(start), deltas, text };
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
