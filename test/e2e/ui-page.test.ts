/**
 * The chat page of a generated project (`ui` feature), driven in headless Chromium as a person
 * would: type, watch tokens arrive in order, stop mid-stream, see errors inline, give a key.
 * Chromium is Debian's package (/usr/bin/chromium), driven by playwright-core.
 */
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPTIONAL_FEATURES } from "../../src/features/index.js";
import { planProject } from "../../src/plan.js";
import { resolveOptions } from "../../src/resolve.js";
import { runCli } from "../support/cli.js";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { serveProject, type RunningApp } from "../support/serve.js";
import { CACHE_DIR } from "../support/tools.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SCREENSHOTS = path.join(CACHE_DIR, "screenshots");

/** Why the browser tests cannot run here, or undefined when Chromium starts. */
async function chromiumMissing(): Promise<string | undefined> {
  if (!(await fs.pathExists(CHROMIUM))) return `${CHROMIUM} is not installed (apt-get install -y chromium)`;
  const version = await execa(CHROMIUM, ["--headless", "--no-sandbox", "--version"], { reject: false, timeout: 20_000 });
  return version.exitCode === 0 ? undefined : `${CHROMIUM} does not run: ${(version.stderr || version.stdout).split("\n")[0]}`;
}

const missing = await chromiumMissing();
if (missing) console.warn(`skipping the chat page tests in Chromium: ${missing}`);

/** Only the `ui` feature, so the page meets the core API alone (auth and friends have their own tests). */
const onlyUi = OPTIONAL_FEATURES.map((f) => (f.id === "ui" ? "--ui" : `--no-${f.id}`));

const answer = (page: Page) => page.locator(".message.assistant").last().locator(".text");
const state = (page: Page, value: string) => page.waitForSelector(`body[data-state="${value}"]`, { timeout: 15_000 });

describe("the chat page's files", () => {
  const plan = async (features: Record<string, boolean>) =>
    planProject(await resolveOptions({ directory: "page", install: false, git: false, features }, { kind: "defaults" }));
  const page = async (features: Record<string, boolean>) => (await plan(features)).files.find((f) => f.path === "app/static/index.html")?.content;

  it("are written only with --ui, and load nothing from another origin", async () => {
    expect(await page({ ui: false })).toBeUndefined();
    const files = (await plan({ ui: true })).files.filter((f) => f.path.startsWith("app/static/"));
    expect(files.map((f) => f.path).sort()).toEqual(["app/static/chat.css", "app/static/chat.js", "app/static/index.html"]);
    for (const file of files) expect(file.content, file.path).not.toMatch(/https?:\/\//);
  });

  it("show the API key field from the start only when the project has auth", async () => {
    expect(await page({ ui: true, auth: false })).toMatch(/<div id="key-row" hidden>/);
    if (OPTIONAL_FEATURES.some((f) => f.id === "auth")) {
      const withAuth = await page({ ui: true, auth: true });
      expect(withAuth).toContain('data-auth="on"');
      expect(withAuth).toMatch(/<div id="key-row">/);
    }
  });
});

describe.skipIf(missing !== undefined)("the chat page in headless Chromium", () => {
  let root: string;
  let mock: RunningApp;
  let relay: RunningApp;
  let upstream: FakeUpstream;
  let context: BrowserContext;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-ui-"));
    const dir = path.join(root, "chat-page");
    const created = await runCli([dir, "--yes", "--install", "--no-git", ...onlyUi]);
    if (created.exitCode !== 0) throw new Error(`CLI failed:\n${created.stderr}\n${created.stdout}`);
    upstream = await startFakeUpstream();
    // The mock answers word by word, 50 ms apart; the relay calls the fake OpenAI-compatible upstream.
    [mock, relay] = await Promise.all([
      serveProject(dir, { MOCK_TOKEN_DELAY: "0.05", FLY_REGION: "fra" }),
      serveProject(dir, { PROVIDER: "openai-compatible", BASE_URL: upstream.baseUrl, INFERENCE_API_KEY: "sk-upstream-key-0000" }),
    ]);
    await fs.ensureDir(SCREENSHOTS);
    context = await chromium.launchPersistentContext(path.join(root, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 900, height: 700 },
    });
  });

  afterAll(async () => {
    await context?.close();
    await Promise.all([mock?.stop(), relay?.stop(), upstream?.close()]);
    if (root) await fs.remove(root);
  });

  it("shows the answer token by token, in order, and the region that served it", async () => {
    const page = await context.newPage();
    await page.goto(`${mock.origin}/`);
    await page.waitForSelector("#model:has-text('mock-echo')");
    // Every text the answer shows, as the page changes it.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => {
        const text = document.querySelector(".message.assistant:last-child .text")?.textContent ?? "";
        if (text && text !== seen.at(-1)) seen.push(text);
      }).observe(document.getElementById("log")!, { subtree: true, childList: true, characterData: true });
    });
    const prompt = "Fly streams every token of this answer to the page as it comes";
    await page.fill("#prompt", prompt);
    await page.press("#prompt", "Enter");
    await state(page, "done");

    expect(await answer(page).textContent()).toBe(prompt);
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    // Word by word: each text extends the one before, and the page showed many in between.
    expect(seen.length).toBeGreaterThanOrEqual(prompt.split(" ").length - 2);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.startsWith(seen[i - 1]!), `${seen[i - 1]} -> ${seen[i]}`).toBe(true);
    expect(seen.at(-1)).toBe(prompt);
    expect(await page.locator(".message.assistant .meta").last().textContent()).toContain("mock-echo");
    expect(await page.textContent("#region")).toContain("fra");
    await expect.poll(() => page.locator("#send").isEnabled()).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, "ui-chat.png"), fullPage: true });
    await page.close();
  });

  it("stops mid-stream: the upstream request is aborted and no more tokens arrive", async () => {
    const aborted = upstream.requests.filter((r) => r.abortedEarly).length;
    upstream.behave({ kind: "stream", tokens: Array.from({ length: 400 }, (_, i) => ` t${i}`), delayMs: 25 });
    const page = await context.newPage();
    await page.goto(`${relay.origin}/`);
    await page.fill("#prompt", "a long answer please");
    await page.click("#send");
    await page.waitForFunction(() => (document.querySelector(".message.assistant:last-child .text")?.textContent ?? "").includes(" t3"));
    await page.click("#stop");
    await state(page, "stopped");
    const atStop = await answer(page).textContent();
    // The server cancels its request to the provider at once (the full answer would take 10 s).
    await upstream.waitForAborts(aborted + 1, 5_000);
    expect(await answer(page).textContent()).toBe(atStop);
    expect(atStop).not.toContain(" t399");
    expect(await page.locator(".message.assistant .meta").last().textContent()).toBe("stopped");
    expect(await page.isEnabled("#send")).toBe(true);
    expect(await page.isDisabled("#stop")).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, "ui-stopped.png"), fullPage: true });

    // The conversation goes on after a stop.
    upstream.behave({ kind: "stream", tokens: ["still", " here"] });
    await page.fill("#prompt", "again");
    await page.press("#prompt", "Enter");
    await state(page, "done");
    expect(await answer(page).textContent()).toBe("still here");
    await page.close();
  });

  it("shows a provider error inline, and the next message works", async () => {
    upstream.behave({ kind: "status", status: 429, message: "slow down", retryAfter: "1" });
    const page = await context.newPage();
    await page.goto(`${relay.origin}/`);
    await page.fill("#prompt", "hello");
    await page.press("#prompt", "Enter");
    await state(page, "error");
    expect(await page.isVisible("#error")).toBe(true);
    expect(await page.textContent("#error")).toMatch(/rate limit/i);
    await page.screenshot({ path: path.join(SCREENSHOTS, "ui-error.png"), fullPage: true });

    upstream.behave({ kind: "stream", tokens: ["better", " now"] });
    await page.fill("#prompt", "hello again");
    await page.press("#prompt", "Enter");
    await state(page, "done");
    expect(await page.isHidden("#error")).toBe(true);
    expect(await answer(page).textContent()).toBe("better now");
    await page.close();
  });

  it("keeps the key field out of the way without auth, shows it on a 401, then sends the key as a Bearer token", async () => {
    const page = await context.newPage();
    const sent: (string | undefined)[] = [];
    let refuse = true;
    // Stands in for an API with keys: the first request is refused, later ones go through.
    await page.route("**/v1/chat/stream", async (route) => {
      sent.push(route.request().headers()["authorization"]);
      if (refuse) {
        refuse = false;
        const error = { error: { code: "unauthorized", message: "Missing or unknown API key." } };
        await route.fulfill({ status: 401, contentType: "application/json", body: JSON.stringify(error) });
      } else {
        await route.continue();
      }
    });
    await page.goto(`${mock.origin}/`);
    expect(await page.isHidden("#key-row")).toBe(true);
    await page.fill("#prompt", "knock knock");
    await page.press("#prompt", "Enter");
    await state(page, "error");
    expect(await page.isVisible("#key-row")).toBe(true);
    expect(await page.textContent("#error")).toContain("This API needs a key");
    expect(sent).toEqual([undefined]);

    await page.fill("#key", "sk-api-test-key-1234567890");
    await page.fill("#prompt", "knock knock");
    await page.press("#prompt", "Enter");
    await state(page, "done");
    expect(sent[1]).toBe("Bearer sk-api-test-key-1234567890");
    expect(await answer(page).textContent()).toBe("knock knock");
    await page.close();
  });
});
