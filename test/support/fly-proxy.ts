/**
 * A stand-in for Fly's proxy as a streaming response meets it (Fly's docs,
 * reference/content-encoding): a response without `Content-Encoding`, to a client whose
 * `Accept-Encoding` includes gzip, is read whole, gzipped and only then sent; anything else
 * passes through chunk by chunk as it comes. Listens on 127.0.0.1.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";

export interface FlyProxy {
  origin: string;
  /** Responses it buffered to compress, and ones it passed through. */
  counts: { buffered: number; passed: number };
  /** The Accept-Encoding of every request, in order ("" for none). */
  acceptEncodings: string[];
  close(): Promise<void>;
}

export interface FlyProxyOptions {
  /** Drop the app's own Content-Encoding before deciding: how the app's streams met the proxy before they sent `none`. */
  ignoreAppEncoding?: boolean;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);

export async function startFlyProxy(target: string, options: FlyProxyOptions = {}): Promise<FlyProxy> {
  const upstream = new URL(target);
  const counts = { buffered: 0, passed: 0 };
  const acceptEncodings: string[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    acceptEncodings.push(String(req.headers["accept-encoding"] ?? ""));
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...headers, host: upstream.host } },
      (answer) => {
        const out: http.OutgoingHttpHeaders = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
        if (options.ignoreAppEncoding) delete out["content-encoding"];
        const accepts = /\bgzip\b/i.test(String(req.headers["accept-encoding"] ?? ""));
        if (out["content-encoding"] === undefined && accepts) {
          counts.buffered++;
          const parts: Buffer[] = [];
          answer.on("data", (part: Buffer) => parts.push(part));
          answer.on("end", () => {
            const body = gzipSync(Buffer.concat(parts));
            res.writeHead(answer.statusCode ?? 502, { ...out, "content-encoding": "gzip", "content-length": body.length, vary: "accept-encoding" }).end(body);
          });
          return;
        }
        counts.passed++;
        res.writeHead(answer.statusCode ?? 502, out);
        res.flushHeaders();
        answer.on("data", (part: Buffer) => res.write(part));
        answer.on("end", () => res.end());
      },
    );
    forward.on("error", () => res.headersSent ? res.destroy() : res.writeHead(502).end());
    res.on("close", () => forward.destroy());
    req.pipe(forward);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    acceptEncodings,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
