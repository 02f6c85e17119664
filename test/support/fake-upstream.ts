import http from "node:http";
import type { AddressInfo } from "node:net";

/** What the fake OpenAI-compatible upstream does with the next chat request. */
export type Behavior =
  | {
      kind: "stream";
      tokens: string[];
      delayMs?: number;
      usage?: boolean;
      /** Silence before the first token. */
      firstDelayMs?: number;
      /** The last token waits for this: a test releases it once its client saw the first one. */
      holdLast?: Promise<void>;
    }
  | { kind: "status"; status: number; message: string; retryAfter?: string }
  | { kind: "drop-after"; tokens: string[] }
  /** The tokens, then a chunk that is not JSON. */
  | { kind: "malformed"; tokens: string[] };

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: any;
  /** Set when the client went away before the response ended. */
  abortedEarly: boolean;
  /** performance.now() when each token was written, in order. */
  tokensSentAt: number[];
}

export interface FakeUpstream {
  /** Base URL to give the app, ending in /v1. */
  baseUrl: string;
  requests: RecordedRequest[];
  behave(next: Behavior): void;
  /** Resolves when `count` responses were cut short by the client, or rejects after `timeoutMs`. */
  waitForAborts(count: number, timeoutMs: number): Promise<void>;
  openConnections(): number;
  close(): Promise<void>;
}

function chunk(model: string, delta: object, finish: string | null, extra: object = {}) {
  return `data: ${JSON.stringify({
    id: "chatcmpl-fake",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  })}\n\n`;
}

/** An OpenAI-compatible /v1/chat/completions on 127.0.0.1, recording what it is sent. */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  let behavior: Behavior = { kind: "stream", tokens: ["Hello", " from", " upstream"], usage: true };
  let aborts = 0;
  const abortWaiters: { count: number; resolve: () => void }[] = [];
  const sockets = new Set<import("node:net").Socket>();

  const server = http.createServer(async (req, res) => {
    let raw = "";
    for await (const part of req) raw += part;
    const record: RecordedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      authorization: req.headers.authorization,
      body: raw ? JSON.parse(raw) : undefined,
      abortedEarly: false,
      tokensSentAt: [],
    };
    requests.push(record);
    res.on("close", () => {
      if (!res.writableFinished) {
        record.abortedEarly = true;
        aborts++;
        for (const waiter of abortWaiters.filter((w) => aborts >= w.count)) waiter.resolve();
      }
    });

    if (req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model", owned_by: "test" }] }));
      return;
    }
    if (req.url !== "/v1/chat/completions") {
      res.writeHead(404).end();
      return;
    }
    const model = String(record.body?.model ?? "");
    const current = behavior;
    if (current.kind === "status") {
      res.writeHead(current.status, {
        "content-type": "application/json",
        ...(current.retryAfter ? { "retry-after": current.retryAfter } : {}),
      });
      res.end(JSON.stringify({ error: { message: current.message, type: "fake_error", code: null } }));
      return;
    }
    const text = current.tokens.join("");
    if (!record.body?.stream) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "chatcmpl-fake",
          object: "chat.completion",
          created: 1_700_000_000,
          model,
          choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
          usage: { prompt_tokens: 3, completion_tokens: current.tokens.length, total_tokens: 3 + current.tokens.length },
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(chunk(model, { role: "assistant", content: "" }, null));
    if (current.kind === "stream" && current.firstDelayMs) {
      const delay = current.firstDelayMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        res.once("close", () => (clearTimeout(timer), resolve()));
      });
    }
    for (const [index, token] of current.tokens.entries()) {
      if (current.kind === "stream" && current.holdLast && index === current.tokens.length - 1) await current.holdLast;
      if (res.destroyed) return;
      res.write(chunk(model, { content: token }, null));
      record.tokensSentAt.push(performance.now());
      if (current.kind === "stream" && current.delayMs) await new Promise((r) => setTimeout(r, current.delayMs));
    }
    if (current.kind === "malformed") {
      res.end("data: {not json\n\n");
      return;
    }
    if (current.kind === "drop-after") {
      // Once the tokens have left (a comment line, ignored by SSE clients, flushes them).
      await new Promise<void>((resolve) => res.write(": flush\n\n", () => resolve()));
      res.socket?.destroy();
      return;
    }
    res.write(chunk(model, {}, "stop"));
    if (current.usage && record.body?.stream_options?.include_usage) {
      res.write(
        `data: ${JSON.stringify({
          id: "chatcmpl-fake",
          object: "chat.completion.chunk",
          created: 1_700_000_000,
          model,
          choices: [],
          usage: { prompt_tokens: 3, completion_tokens: current.tokens.length, total_tokens: 3 + current.tokens.length },
        })}\n\n`,
      );
    }
    res.end("data: [DONE]\n\n");
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    behave(next) {
      behavior = next;
    },
    waitForAborts(count, timeoutMs) {
      if (aborts >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} aborted upstream requests, saw ${aborts}`)), timeoutMs);
        abortWaiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
