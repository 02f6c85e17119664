/**
 * A generated project's streams behind a stand-in for Fly's proxy (test/support/fly-proxy.ts),
 * which buffers and gzips any response without Content-Encoding for a client that accepts gzip.
 * The upstream holds back its last token until the client has shown the first one: a stream
 * that the proxy buffers cannot do that, so each client proves it reads the stream live.
 * Clients: Node's fetch, the openai SDK (npm and Python) on the gateway, Chromium on the chat
 * page, and curl, with and without --compressed.
 */
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import OpenAI from "openai";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_ACCEPT_ENCODING, smokeTest } from "../../src/deploy/smoke.js";
import { runCli } from "../support/cli.js";
import { startFakeUpstream, type FakeUpstream, type RecordedRequest } from "../support/fake-upstream.js";
import { startFlyProxy, type FlyProxy } from "../support/fly-proxy.js";
import { projectEnv, serveProject, type RunningApp } from "../support/serve.js";
import { readSse } from "../support/sse.js";

const CHROMIUM = "/usr/bin/chromium";
const TOKENS = Array.from({ length: 12 }, (_, i) => `w${i} `);
const ANSWER = TOKENS.join("");
/** How long a held last token waits for a client that never shows the first: the bound, not a pace. */
const HOLD_BOUND_MS = 4_000;

/** The upstream's next stream, its last token held until `release` (or HOLD_BOUND_MS). */
function holdLastToken(upstream: FakeUpstream) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const bound = setTimeout(release, HOLD_BOUND_MS);
  upstream.behave({ kind: "stream", tokens: TOKENS, delayMs: 10, usage: true, holdLast: held });
  const before = upstream.requests.length;
  return {
    /** Called when the client shows its first token: was the upstream's last one still unsent? */
    firstSeen(): boolean {
      const request: RecordedRequest | undefined = upstream.requests[before];
      const early = request !== undefined && request.tokensSentAt.length < TOKENS.length;
      clearTimeout(bound);
      release();
      return early;
    },
    release: () => (clearTimeout(bound), release()),
  };
}

/** Reads /v1/chat/stream as a browser would ask for it; times every event from sending the request. */
async function readChatStream(origin: string, onFirstDelta?: () => void) {
  const sent = performance.now();
  const response = await fetch(`${origin}/v1/chat/stream`, {
    method: "POST",
    headers: { "content-type": "application/json", "accept-encoding": BROWSER_ACCEPT_ENCODING },
    body: JSON.stringify({ messages: [{ role: "user", content: "hello" }] }),
  });
  const arrivals: number[] = [];
  let text = "";
  await readSse(response, (event) => {
    if (event.event !== "delta" && event.event !== "done") return;
    arrivals.push(performance.now() - sent);
    if (event.event === "delta") {
      if (arrivals.length === 1) onFirstDelta?.();
      text += JSON.parse(event.data!).text;
    }
  });
  const gaps = arrivals.slice(1).map((ms, i) => ms - arrivals[i]!).sort((a, b) => a - b);
  return { encoding: response.headers.get("content-encoding"), text, ttftMs: arrivals[0] ?? NaN, medianGapMs: gaps[Math.floor(gaps.length / 2)] ?? NaN, totalMs: arrivals.at(-1) ?? NaN };
}

describe("streams through a stand-in for Fly's proxy", () => {
  let root: string;
  let dir: string;
  let upstream: FakeUpstream;
  let app: RunningApp;
  let proxy: FlyProxy;
  /** The same proxy in front of the same app, as it was before streams sent Content-Encoding: none. */
  let before: FlyProxy;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-fly-proxy-"));
    dir = path.join(root, "proxied");
    const created = await runCli([dir, "--ui", "--gateway", "--no-auth", "--no-mcp", "--yes", "--no-git", "--install", "--json"]);
    if (created.exitCode !== 0) throw new Error(`CLI failed (${created.exitCode}):\n${created.stderr}\n${created.stdout}`);
    upstream = await startFakeUpstream();
    app = await serveProject(dir, { PROVIDER: "openai-compatible", BASE_URL: upstream.baseUrl, MODEL: "fake-model", INFERENCE_API_KEY: "sk-upstream-0000" });
    [proxy, before] = await Promise.all([startFlyProxy(app.origin), startFlyProxy(app.origin, { ignoreAppEncoding: true })]);
  });

  afterAll(async () => {
    await Promise.all([proxy?.close(), before?.close()]);
    await app?.stop();
    await upstream?.close();
    if (root) await fs.remove(root);
  });

  it("the first delta arrives before the upstream sent its last token; without the header it does not", async () => {
    const live = holdLastToken(upstream);
    let early: boolean | undefined;
    const after = await readChatStream(proxy.origin, () => (early = live.firstSeen()));
    expect(after.encoding).toBe("none");
    expect(after.text).toBe(ANSWER);
    expect(early).toBe(true);

    const buffered = holdLastToken(upstream);
    let earlyBefore: boolean | undefined;
    const old = await readChatStream(before.origin, () => (earlyBefore = buffered.firstSeen()));
    expect(old.encoding).toBe("gzip");
    expect(old.text).toBe(ANSWER);
    expect(earlyBefore).toBe(false);
  });

  it("paced tokens: TTFT and the gaps between events, through the proxy with and without the header", async () => {
    const paced = () => upstream.behave({ kind: "stream", tokens: TOKENS, delayMs: 80 });
    paced();
    const after = await readChatStream(proxy.origin);
    paced();
    const old = await readChatStream(before.origin);
    console.info(`fly proxy stand-in, ${TOKENS.length} tokens 80 ms apart: with Content-Encoding: none TTFT ${after.ttftMs.toFixed(0)} ms, median gap ${after.medianGapMs.toFixed(1)} ms, done ${after.totalMs.toFixed(0)} ms; without: TTFT ${old.ttftMs.toFixed(0)} ms, median gap ${old.medianGapMs.toFixed(1)} ms, done ${old.totalMs.toFixed(0)} ms`);
    // Live: the first event comes long before the end, and the events keep the upstream's pace.
    expect(after.ttftMs).toBeLessThan(after.totalMs / 2);
    expect(after.medianGapMs).toBeGreaterThan(40);
    // Buffered: everything comes at the end, at once.
    expect(old.ttftMs).toBeGreaterThan(old.totalMs * 0.9);
    expect(old.medianGapMs).toBeLessThan(5);
  });

  it("the deploy's smoke test passes through the proxy, and names the cause without the header", async () => {
    upstream.behave({ kind: "stream", tokens: TOKENS, delayMs: 100 });
    const result = await smokeTest(proxy.origin, { healthAttempts: 1 });
    expect(result.stream).toMatchObject({ deltas: TOKENS.length, text: ANSWER });
    expect(result.stream!.medianGapMs).toBeGreaterThan(50);
    upstream.behave({ kind: "stream", tokens: TOKENS, delayMs: 100 });
    await expect(smokeTest(before.origin, { healthAttempts: 1 })).rejects.toThrow(/came back compressed \(Content-Encoding: gzip\).*must send Content-Encoding: none/);
  });

  it("the npm openai SDK streams the gateway's completion live", async () => {
    const asked = proxy.acceptEncodings.length;
    const client = new OpenAI({ baseURL: `${proxy.origin}/v1`, apiKey: "unused", maxRetries: 0, timeout: 15_000 });
    const live = holdLastToken(upstream);
    const stream = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    let early: boolean | undefined;
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta?.content ?? "";
      if (content && early === undefined) early = live.firstSeen();
      text += content;
    }
    expect(text).toBe(ANSWER);
    expect(early).toBe(true);
    // What the SDK asked for: with gzip in it, the proxy would have buffered a stream without the header.
    expect(proxy.acceptEncodings[asked]).toMatch(/gzip/);
  });

  it("the Python openai SDK (the project's venv) streams the gateway's completion live", async () => {
    const asked = proxy.acceptEncodings.length;
    const script = [
      "import sys, openai",
      "client = openai.OpenAI(base_url=sys.argv[1], api_key='unused', max_retries=0, timeout=15)",
      "stream = client.chat.completions.create(model='fake-model', messages=[{'role': 'user', 'content': 'hi'}], stream=True)",
      "for chunk in stream:",
      "    if chunk.choices and chunk.choices[0].delta.content:",
      "        print('delta', repr(chunk.choices[0].delta.content), flush=True)",
      "print('end', flush=True)",
    ].join("\n");
    const live = holdLastToken(upstream);
    const child = execa(path.join(dir, ".venv/bin/python"), ["-c", script, `${proxy.origin}/v1`], { env: projectEnv(), extendEnv: false, reject: false, buffer: false });
    const deltas: string[] = [];
    let early: boolean | undefined;
    for await (const line of readline.createInterface({ input: child.stdout! })) {
      if (line.startsWith("delta ")) {
        if (early === undefined) early = live.firstSeen();
        deltas.push(line);
      }
    }
    const done = await child;
    expect(done.exitCode).toBe(0);
    expect(deltas).toHaveLength(TOKENS.length);
    expect(early).toBe(true);
    expect(proxy.acceptEncodings[asked]).toMatch(/gzip/);
  });

  it("curl reads the stream live, with and without --compressed", async () => {
    for (const compressed of [false, true]) {
      const asked = proxy.acceptEncodings.length;
      const live = holdLastToken(upstream);
      const args = ["-sS", "-N", "--fail", "-X", "POST", `${proxy.origin}/v1/chat/stream`, "-H", "content-type: application/json", "-d", '{"messages":[{"role":"user","content":"hi"}]}'];
      const child = execa("curl", compressed ? ["--compressed", ...args] : args, { reject: false, buffer: false });
      let deltas = 0;
      let early: boolean | undefined;
      for await (const line of readline.createInterface({ input: child.stdout! })) {
        if (line === "event: delta" && deltas++ === 0) early = live.firstSeen();
      }
      const done = await child;
      expect(done.exitCode, `curl ${compressed ? "--compressed" : ""}`).toBe(0);
      expect(deltas).toBe(TOKENS.length);
      expect(early).toBe(true);
      expect(proxy.acceptEncodings[asked]).toEqual(compressed ? expect.stringMatching(/gzip/) : "");
    }
  });

  describe.skipIf(!fs.pathExistsSync(CHROMIUM))("Chromium on the chat page", () => {
    let context: BrowserContext;
    beforeAll(async () => {
      context = await chromium.launchPersistentContext(path.join(root, "profile"), {
        executablePath: CHROMIUM,
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    });
    afterAll(() => context?.close());

    it("shows the first token before the upstream sent its last", async () => {
      const page = await context.newPage();
      await page.goto(`${proxy.origin}/`);
      const live = holdLastToken(upstream);
      await page.fill("#prompt", "hello");
      await page.press("#prompt", "Enter");
      await page.waitForFunction(() => (document.querySelector(".message.assistant:last-child .text")?.textContent ?? "").includes("w0"), undefined, { timeout: HOLD_BOUND_MS * 2 });
      const early = live.firstSeen();
      await page.waitForSelector('body[data-state="done"]', { timeout: 15_000 });
      expect((await page.locator(".message.assistant").last().locator(".text").textContent())?.trim()).toBe(ANSWER.trim());
      expect(early).toBe(true);
      // The page itself is still compressed by the proxy: only streams opt out.
      expect(proxy.counts.buffered).toBeGreaterThan(0);
      await page.close();
    });
  });
});
