import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BROWSER_ACCEPT_ENCODING, SmokeError, bunching, smokeTest } from "../../src/deploy/smoke.js";
import { startFakeApp } from "./helpers.js";

describe("smokeTest", () => {
  it("checks /healthz, reads one stream to `done`, and times it", async () => {
    const app = await startFakeApp();
    try {
      const result = await smokeTest(`${app.origin}/`);
      expect(result).toMatchObject({ origin: app.origin, healthz: { status: 200 }, stream: { deltas: 3, text: "Hello from Fly" } });
      expect(result.stream!.totalMs).toBeGreaterThanOrEqual(result.stream!.firstEventMs);
      const post = app.requests.find((r) => r.method === "POST")!;
      expect(post.url).toBe("/v1/chat/stream");
      expect(JSON.parse(post.body)).toEqual({ messages: [{ role: "user", content: expect.any(String) }] });
    } finally {
      await app.close();
    }
  });

  it.each([
    [{ health: 500 }, "GET /healthz answered 500"],
    [{ stream: "status-500" as const }, 'POST /v1/chat/stream answered 500: {"detail":"boom"}'],
    [{ stream: "error-event" as const }, "the stream sent an error event: upstream_auth: the provider rejected the key"],
    [{ stream: "no-done" as const }, "the stream ended without a done event after 3 deltas"],
  ])("fails clearly when the app answers %j", async (behavior, message) => {
    const app = await startFakeApp(behavior);
    try {
      await expect(smokeTest(app.origin)).rejects.toThrow(new SmokeError(message));
    } finally {
      await app.close();
    }
  });

  it("retries /healthz while the proxy answers 503, a bounded number of times", async () => {
    let calls = 0;
    const server = http.createServer((_req, res) => {
      calls++;
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(smokeTest(origin, { healthAttempts: 3, retryDelayMs: 1 })).rejects.toThrow("GET /healthz answered 503");
      expect(calls).toBe(3);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("rejects a response that is not an event stream", async () => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": req.url === "/healthz" ? "application/json" : "text/html" }).end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(smokeTest(origin)).rejects.toThrow("answered text/html, not text/event-stream");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** An app whose stream sends `events` SSE events, `gapMs` apart, after `firstMs`; or all at once at the end. */
  async function pacedApp(options: { events: number; gapMs: number; firstMs?: number; allAtEnd?: boolean; gzip?: boolean }) {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      if (req.url === "/healthz") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
      seen.push(req.headers);
      const blocks = [...Array.from({ length: options.events }, (_, i) => `event: delta\ndata: {"text":"t${i} "}\n\n`), "event: done\ndata: {}\n\n"];
      const headers: http.OutgoingHttpHeaders = { "content-type": "text/event-stream" };
      if (options.gzip) {
        res.writeHead(200, { ...headers, "content-encoding": "gzip" }).end(gzipSync(blocks.join("")));
        return;
      }
      res.writeHead(200, headers);
      const total = (options.firstMs ?? 0) + options.gapMs * blocks.length;
      if (options.allAtEnd) return void setTimeout(() => res.end(blocks.join("")), total);
      blocks.forEach((block, i) => setTimeout(() => (res.write(block), i === blocks.length - 1 && res.end()), (options.firstMs ?? 0) + options.gapMs * i));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it("asks as a browser does, and reports TTFT and the median gap between events", async () => {
    const app = await pacedApp({ events: 6, gapMs: 200, firstMs: 100 });
    try {
      const result = await smokeTest(app.origin);
      expect(app.seen[0]!["accept-encoding"]).toBe(BROWSER_ACCEPT_ENCODING);
      expect(result.stream).toMatchObject({ deltas: 6 });
      expect(result.stream!.firstEventMs).toBeGreaterThanOrEqual(90);
      expect(result.stream!.medianGapMs).toBeGreaterThanOrEqual(150);
      expect(result.stream!.medianGapMs).toBeLessThan(400);
    } finally {
      await app.close();
    }
  });

  it("fails, naming the cause, when the events arrive bunched at the end", async () => {
    const app = await pacedApp({ events: 8, gapMs: 150, allAtEnd: true });
    try {
      await expect(smokeTest(app.origin)).rejects.toThrow(/the events arrived bunched: 9 of 9 in the last \d+ ms of \d+ ms, as from a proxy that buffers the response; the app's streams must send Content-Encoding: none/);
    } finally {
      await app.close();
    }
  });

  it("fails, naming the cause, when the stream comes back compressed", async () => {
    const app = await pacedApp({ events: 3, gapMs: 0, gzip: true });
    try {
      await expect(smokeTest(app.origin)).rejects.toThrow("the stream came back compressed (Content-Encoding: gzip): the proxy buffers a response to compress it");
    } finally {
      await app.close();
    }
  });

  it("judges bunching only on streams long and eventful enough to tell", () => {
    expect(bunching([600, 1150, 1190, 1200])).toMatch(/^the events arrived bunched: 3 of 4 in the last 120 ms of 1200 ms/);
    expect(bunching([100, 400, 700, 1000, 1300])).toBeUndefined();
    // A fast answer, all in a few ms: nobody could see a difference.
    expect(bunching([20, 21, 22, 23, 24])).toBeUndefined();
    expect(bunching([1190, 1200])).toBeUndefined();
  });
});
