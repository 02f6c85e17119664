/**
 * A throwaway PostgreSQL cluster for e2e tests: `initdb` + `pg_ctl` in a temp dir, listening
 * on 127.0.0.1 only. Debian keeps the programs in /usr/lib/postgresql/<version>/bin, off PATH;
 * initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
 */
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import { freePort } from "./serve.js";

/** The directory of initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function postgresBin(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, "initdb"))) return dir;
  }
  const debian = "/usr/lib/postgresql";
  const versions = fs.existsSync(debian) ? fs.readdirSync(debian).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((version) => path.join(debian, version, "bin")).find((dir) => fs.existsSync(path.join(dir, "initdb")));
  return found;
}

export interface PostgresCluster {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
}

export async function startPostgres(bin: string): Promise<PostgresCluster> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-pg-"));
  const data = path.join(root, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (program: string, args: string[]) =>
    asRoot ? execa("runuser", ["-u", "postgres", "--", path.join(bin, program), ...args]) : execa(path.join(bin, program), args);
  if (asRoot) await execa("chown", ["postgres", root]);
  await run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync"]);
  const port = await freePort();
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -k ${root} -c fsync=off`;
  const cluster: PostgresCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => void (await run("pg_ctl", ["-D", data, "-w", "-o", options, "-l", path.join(root, "log"), "start"])),
    stop: async () => void (await run("pg_ctl", ["-D", data, "-w", "-m", "fast", "stop"])),
    async remove() {
      await run("pg_ctl", ["-D", data, "-w", "-m", "immediate", "stop"]).catch(() => {});
      await fs.remove(root);
    },
  };
  await cluster.start();
  return cluster;
}
