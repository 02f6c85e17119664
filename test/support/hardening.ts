/**
 * Helpers of the hardening end-to-end tests: a generated project's metrics, bounded waits on
 * what it reports, SSE calls with an API key, and schemathesis from a pinned tools venv.
 */
import { execa } from "execa";
import fs from "fs-extra";
import path from "node:path";
import { readSse, type SseEvent } from "./sse.js";
import { CACHE_DIR, TOOLS_BIN } from "./tools.js";

export const SCHEMATHESIS = "schemathesis==4.32.5";
const HARDENING_TOOLS = path.join(CACHE_DIR, "hardening-tools");

/** A venv with schemathesis (installed once with the tools' uv; later runs reuse it); returns its command. */
export async function ensureSchemathesis(): Promise<string> {
  const marker = path.join(HARDENING_TOOLS, "installed.txt");
  const command = path.join(HARDENING_TOOLS, "bin", "schemathesis");
  if ((await fs.readFile(marker, "utf8").catch(() => "")) === SCHEMATHESIS) return command;
  await fs.remove(HARDENING_TOOLS);
  const uv = path.join(TOOLS_BIN, "uv");
  await execa(uv, ["venv", "--quiet", "--python", "python3", HARDENING_TOOLS]);
  await execa(uv, ["pip", "install", "--quiet", "--python", path.join(HARDENING_TOOLS, "bin", "python"), SCHEMATHESIS]);
  await fs.writeFile(marker, SCHEMATHESIS);
  return command;
}

export const bearer = (key?: string): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});

/** Prometheus text as `name{labels}` -> value. */
export async function scrape(origin: string, key?: string): Promise<Map<string, number>> {
  const response = await fetch(`${origin}/metrics`, { headers: bearer(key) });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const values = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** Polls `probe` until `accept` holds (every 50 ms, at most `withinMs`); returns the last value. */
export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, withinMs: number, what: string): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface StreamResult {
  status: number;
  events: SseEvent[];
  /** The last event that is not a comment. */
  last: SseEvent | undefined;
}

/** POSTs a chat to /v1/chat/stream and reads it; `stopAt` ends the read early (the caller aborts). */
export async function chatStream(
  origin: string,
  options: { key?: string; content?: string; signal?: AbortSignal; stopAt?: (event: SseEvent) => boolean } = {},
): Promise<StreamResult> {
  const response = await fetch(`${origin}/v1/chat/stream`, {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(options.key) },
    body: JSON.stringify({ messages: [{ role: "user", content: options.content ?? "hello there" }] }),
    signal: options.signal,
  });
  if (response.status !== 200 || !response.body) {
    const text = await response.text();
    return { status: response.status, events: [{ data: text }], last: { data: text } };
  }
  const events = await readSse(response, (event) => !options.stopAt?.(event));
  return { status: 200, events, last: events.filter((e) => e.comment === undefined).at(-1) };
}

export const codeOf = (event: SseEvent | undefined) => (event?.data ? (JSON.parse(event.data) as { code?: string }).code : undefined);
