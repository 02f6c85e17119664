// The conversation-history TTFT comparison (scripts/bench/history.mjs): one console line and a section of docs/benchmarks.md.
import { fmtMs } from "./util.mjs";

const signed = (ms) => (Number.isFinite(ms) ? `${ms >= 0 ? "+" : "−"}${Math.abs(ms).toFixed(2)} ms` : "n/a");

export function historySummaryLine(h) {
  if (h.skipped) return `conversation history: skipped (${h.skipped})`;
  return (
    `conversation history (${h.messages} stored messages, --postgres): TTFT p50 ${fmtMs(h.with.p50, 2)} vs ${fmtMs(h.without.p50, 2)} without (${signed(h.added.p50)}), ` +
    `p95 ${fmtMs(h.with.p95, 2)} vs ${fmtMs(h.without.p95, 2)} (${signed(h.added.p95)}); ${h.rounds} pairs, ${h.errors} errors`
  );
}

export function historyMarkdown(h, { date, mode }) {
  const out = ["## Conversation history (`--postgres`)", ""];
  if (h.skipped) return [...out, `Not measured in the run of ${date.slice(0, 10)}: ${h.skipped}.`, ""];
  out.push(
    `Run of ${date.slice(0, 10)} (${mode}). What continuing a stored conversation adds to the time to first token: a \`--postgres\``,
    "project served by one uvicorn worker (the Dockerfile's flags) against a PostgreSQL started for the run on 127.0.0.1",
    `(\`initdb\`, fsync off), the mock provider with its default token delay (20 ms before each token) in both cases.`,
    `${h.rounds} conversations of ${h.messages} messages each are seeded through the API (10 chats each); then, in alternation, one`,
    "`POST /v1/chat/stream` without a `conversation_id` and one continuing a seeded conversation (each used once, at",
    `${h.messages} messages: its answer is stored too). The difference is the history read, the question's insert and the longer`,
    "prompt handed to the provider.",
    "",
    "| TTFT | p50 | p95 |",
    "|---|---|---|",
    `| without a conversation | ${fmtMs(h.without.p50, 2)} | ${fmtMs(h.without.p95, 2)} |`,
    `| continuing ${h.messages} stored messages | ${fmtMs(h.with.p50, 2)} | ${fmtMs(h.with.p95, 2)} |`,
    `| added | ${signed(h.added.p50)} | ${signed(h.added.p95)} |`,
    "",
    `${h.errors} errors in ${2 * h.rounds} streams; the machine (all cores) was ${Number.isFinite(h.busy) ? `${Math.round(h.busy * 100)} %` : "n/a"} busy while they ran.`,
    "",
  );
  return out;
}
