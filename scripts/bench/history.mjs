// Conversation history (issue #13): what a stored conversation adds to the time to first token.
// A --postgres project against a throwaway PostgreSQL on 127.0.0.1, the mock provider with its
// default token delay for both: TTFT of POST /v1/chat/stream continuing a conversation of 20
// stored messages, against the same request without a conversation_id.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { CHAT_BODY, APP_ENV, appIsError, appIsToken } from "./app.mjs";
import { prepareProject, productionUvicornFlags, serve } from "./python.mjs";
import { streamOnce } from "./streams.mjs";
import { busyShare, cpuCounters, freePort, log, median, must, quantile, run, tempDir } from "./util.mjs";

/** Messages in each stored conversation: 10 chats, a question and its answer each. */
export const HISTORY_MESSAGES = 20;

/** The directory of initdb and pg_ctl (Debian keeps them off PATH), or undefined. */
export function postgresBin() {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir && fs.existsSync(path.join(dir, "initdb"))) return dir;
  const debian = "/usr/lib/postgresql";
  const versions = fs.existsSync(debian) ? fs.readdirSync(debian).sort((a, b) => Number(b) - Number(a)) : [];
  return versions.map((v) => path.join(debian, v, "bin")).find((dir) => fs.existsSync(path.join(dir, "initdb")));
}

/** initdb + pg_ctl in a temp dir, on 127.0.0.1 only, trust auth; as root the cluster belongs to `postgres` (initdb refuses root). */
async function startPostgres(bin) {
  const root = tempDir("pg");
  const data = path.join(root, "data");
  const asRoot = process.getuid?.() === 0;
  const pg = (program, args) => (asRoot ? must("runuser", ["-u", "postgres", "--", path.join(bin, program), ...args], { timeoutMs: 60_000 }) : must(path.join(bin, program), args, { timeoutMs: 60_000 }));
  if (asRoot) must("chown", ["postgres", root]);
  pg("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync"]);
  const port = await freePort();
  pg("pg_ctl", ["-D", data, "-w", "-o", `-c listen_addresses=127.0.0.1 -c port=${port} -k ${root} -c fsync=off`, "-l", path.join(root, "log"), "start"]);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop: () => run(asRoot ? "runuser" : path.join(bin, "pg_ctl"), [...(asRoot ? ["-u", "postgres", "--", path.join(bin, "pg_ctl")] : []), "-D", data, "-w", "-m", "immediate", "stop"]) };
}

export async function historyBenchmark({ quick, deadline }) {
  const bin = postgresBin();
  if (!bin) {
    const skipped = "no initdb on PATH or in /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)";
    log(`history: skipped: ${skipped}`);
    return { skipped };
  }
  const rounds = quick ? 16 : 60;
  const project = prepareProject("postgres", ["--postgres"]);
  const postgres = await startPostgres(bin);
  let app;
  try {
    const env = { ...APP_ENV, DATABASE_URL: postgres.url };
    must(path.join(project.dir, ".venv", "bin", "alembic"), ["upgrade", "head"], { cwd: project.dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8", ...env } });
    app = await serve(project.dir, { env, flags: productionUvicornFlags(project.dir) });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const stream = (body) => streamOnce({ url: `${app.origin}/v1/chat/stream`, body, agent, isToken: appIsToken, isError: appIsError });
    const ask = JSON.parse(CHAT_BODY);

    // One conversation per measured request: each answer is stored too, so a conversation is used once, at 20 messages.
    const conversations = Array.from({ length: rounds }, () => randomUUID());
    const t0 = Date.now();
    const seedOne = async (id) => {
      for (let i = 0; i < HISTORY_MESSAGES / 2; i++) {
        const r = await stream({ messages: [{ role: "user", content: `Earlier question number ${i} of this conversation.` }], conversation_id: id });
        if (r.error || r.tokens === 0) throw new Error(`seeding a conversation failed: ${r.error ?? "no tokens"}`);
      }
    };
    for (let i = 0; i < conversations.length; i += 8) await Promise.all(conversations.slice(i, i + 8).map(seedOne));
    const seeded = await (await fetch(`${app.origin}/v1/conversations/${conversations[0]}`)).json();
    if (seeded.messages?.length !== HISTORY_MESSAGES) throw new Error(`a seeded conversation holds ${seeded.messages?.length} messages, not ${HISTORY_MESSAGES}`);
    log(`history: ${rounds} conversations of ${HISTORY_MESSAGES} messages seeded through the API in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Interleaved, the order swapped each round, so drift and load hit both alike.
    const without = [];
    const withHistory = [];
    let errors = 0;
    const cpu0 = cpuCounters();
    for (let i = 0; i < rounds && Date.now() < deadline; i++) {
      const pair = [
        async () => without.push(await stream(ask)),
        async () => withHistory.push(await stream({ ...ask, conversation_id: conversations[i] })),
      ];
      for (const step of i % 2 ? pair.reverse() : pair) await step();
    }
    const ttfts = (list) => list.filter((r) => !r.error && r.tokens > 0).map((r) => r.ttft);
    errors = without.length + withHistory.length - ttfts(without).length - ttfts(withHistory).length;
    const stats = (list) => ({ p50: median(ttfts(list)), p95: quantile(ttfts(list), 0.95), n: ttfts(list).length });
    // How busy the whole machine was while measuring (this benchmark, its PostgreSQL and anything else).
    const busy = busyShare(cpu0, cpuCounters())?.busy ?? null;
    const result = { messages: HISTORY_MESSAGES, rounds: Math.min(without.length, withHistory.length), errors, busy, without: stats(without), with: stats(withHistory), versions: project.versions };
    result.added = { p50: result.with.p50 - result.without.p50, p95: result.with.p95 - result.without.p95 };
    log(`history: TTFT p50 ${result.with.p50.toFixed(2)} ms with ${HISTORY_MESSAGES} stored messages vs ${result.without.p50.toFixed(2)} ms without (+${result.added.p50.toFixed(2)} ms), p95 ${result.with.p95.toFixed(2)} vs ${result.without.p95.toFixed(2)} ms`);
    agent.destroy();
    return result;
  } finally {
    await app?.stop();
    postgres.stop();
  }
}
