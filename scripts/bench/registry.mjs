// A minimal npm registry on 127.0.0.1 serving packed tarballs, so `npm exec` of our unpublished
// package goes through the same code path (packument, tarball, integrity check) as a published one:
//   node scripts/bench/registry.mjs <port> <tarball>...    prints "listening <port>" once ready
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, startProcess, waitReady } from "./util.mjs";

function serve(port, tarballs) {
  const packages = new Map();
  for (const file of tarballs) {
    const data = fs.readFileSync(file);
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", file, "package/package.json"], { encoding: "utf8" }));
    const name = manifest.name;
    const fileName = `${name.split("/").pop()}-${manifest.version}.tgz`;
    packages.set(name, { manifest, data, fileName });
  }
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split("?")[0]).slice(1);
    if (url === "-/ping" || url === "") {
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      return;
    }
    for (const [name, pkg] of packages) {
      if (url === name) {
        const origin = `http://127.0.0.1:${server.address().port}`;
        const version = {
          ...pkg.manifest,
          _id: `${name}@${pkg.manifest.version}`,
          dist: {
            tarball: `${origin}/${name}/-/${pkg.fileName}`,
            shasum: crypto.createHash("sha1").update(pkg.data).digest("hex"),
            integrity: `sha512-${crypto.createHash("sha512").update(pkg.data).digest("base64")}`,
          },
        };
        const packument = { _id: name, name, "dist-tags": { latest: pkg.manifest.version }, versions: { [pkg.manifest.version]: version } };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(packument));
        return;
      }
      if (url === `${name}/-/${pkg.fileName}`) {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": pkg.data.length }).end(pkg.data);
        return;
      }
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
  });
  server.listen(port, "127.0.0.1", () => process.stdout.write(`listening ${server.address().port}\n`));
  setTimeout(() => process.exit(0), 15 * 60_000).unref();
  process.on("SIGTERM", () => process.exit(0));
}

/** Starts the registry as a child process (the benchmark's own spawnSync calls would block an in-process one). */
export async function startRegistry(tarballs) {
  const port = await freePort();
  const proc = startProcess(process.execPath, [fileURLToPath(import.meta.url), String(port), ...tarballs]);
  const url = `http://127.0.0.1:${port}/`;
  await waitReady(`${url}-/ping`, proc, 10_000);
  return { url, stop: () => proc.stop() };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  serve(Number(process.argv[2]), process.argv.slice(3));
}
