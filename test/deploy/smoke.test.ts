import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { SmokeError, smokeTest } from "../../src/deploy/smoke.js";
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
});
