// A fake OpenAI-compatible upstream for the benchmark, run as its own process:
//   node scripts/bench/upstream.mjs [port]      prints "listening <port>" once ready
// POST /v1/chat/completions streams `chat.completion.chunk` events ending in `data: [DONE]`
// (or answers one `chat.completion` when stream is false); GET /v1/models lists one model.
// The pacing is set at run time with POST /__bench/config {"tokens":N,"intervalMs":M,"firstTokenMs":F};
// GET /__bench/stats counts open, finished and client-aborted streams.
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startProcess, waitReady } from "./util.mjs";

const WORDS = ["Fly", " streams", " tokens", " from", " the", " edge", " to", " you", ",", " one", " by", " one", "."];
/** How many of the upstream's tokens (WORDS) a relayed text holds: one match per word. */
export const countWords = (text) => text.match(/ ?[A-Za-z]+|[,.]/g)?.length ?? 0;

function serve(port) {
  let config = { tokens: 16, intervalMs: 20, firstTokenMs: 20 };
  const stats = { open: 0, finished: 0, aborted: 0, started: 0, nonStream: 0, connections: 0, openConnections: 0 };
  const created = Math.floor(Date.now() / 1000);
  const chunk = (model, delta, finish) =>
    `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;

  const server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (part) => (raw += part));
    req.on("end", () => {
      if (req.url === "/__bench/config" && req.method === "POST") {
        config = { ...config, ...JSON.parse(raw || "{}") };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(config));
        return;
      }
      if (req.url === "/__bench/stats") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...stats, config }));
        return;
      }
      if (req.url === "/healthz") {
        res.writeHead(200).end("ok");
        return;
      }
      if (req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "bench-model", object: "model", created, owned_by: "bench" }] }));
        return;
      }
      if (req.url !== "/v1/chat/completions" || req.method !== "POST") {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
        return;
      }
      let body = {};
      try {
        body = JSON.parse(raw);
      } catch {}
      const model = String(body.model ?? "bench-model");
      const { tokens, intervalMs, firstTokenMs } = config;
      const words = Array.from({ length: tokens }, (_, i) => WORDS[i % WORDS.length]);
      const usage = { prompt_tokens: 8, completion_tokens: tokens, total_tokens: 8 + tokens };
      if (!body.stream) {
        stats.nonStream++;
        const answer = () => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              id: "chatcmpl-bench",
              object: "chat.completion",
              created,
              model,
              choices: [{ index: 0, message: { role: "assistant", content: words.join("") }, logprobs: null, finish_reason: "stop" }],
              usage,
            }),
          );
        };
        // Non-streaming answers come at once: the benchmark measures the app, not a model.
        answer();
        return;
      }
      stats.started++;
      stats.open++;
      let closed = false;
      let timer;
      res.on("close", () => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        stats.open--;
        if (res.writableFinished) stats.finished++;
        else stats.aborted++;
      });
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(chunk(model, { role: "assistant", content: "" }, null));
      let sent = 0;
      const next = () => {
        if (closed) return;
        if (sent < words.length) {
          res.write(chunk(model, { content: words[sent++] }, null));
          timer = setTimeout(next, intervalMs);
          return;
        }
        res.write(chunk(model, {}, "stop"));
        if (body.stream_options?.include_usage) {
          res.write(`data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`);
        }
        res.end("data: [DONE]\n\n");
      };
      if (intervalMs === 0 && firstTokenMs === 0) {
        // No pacing: the whole answer in one go (throughput runs).
        while (sent < words.length) res.write(chunk(model, { content: words[sent++] }, null));
      }
      timer = setTimeout(next, firstTokenMs);
    });
  });
  server.on("connection", (socket) => {
    stats.connections++;
    stats.openConnections++;
    socket.on("close", () => stats.openConnections--);
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.maxConnections = 100_000;
  server.listen(port, "127.0.0.1", () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  // Bounded life: the parent stops us; this is the backstop if it dies.
  setTimeout(() => process.exit(0), 30 * 60_000).unref();
  process.on("SIGTERM", () => process.exit(0));
}

/** Starts the fake upstream as a child process; resolves to { origin, baseUrl, configure, stats, stop, pid }. */
export async function startUpstream() {
  const port = await freePort();
  const proc = startProcess(process.execPath, [fileURLToPath(import.meta.url), String(port)]);
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(`${origin}/healthz`, proc, 10_000);
  const post = async (pathName, body) =>
    (await fetch(`${origin}${pathName}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json();
  return {
    origin,
    baseUrl: `${origin}/v1`,
    pid: proc.pid,
    configure: (config) => post("/__bench/config", config),
    stats: async () => (await fetch(`${origin}/__bench/stats`)).json(),
    stop: () => proc.stop(),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  serve(Number(process.argv[2] ?? 0));
}
