/** A parsed Server-Sent Event, or a comment line such as the keep-alive `: ping`. */
export interface SseEvent {
  event?: string;
  data?: string;
  id?: string;
  comment?: string;
}

/** Parses complete SSE blocks; returns the events and the unparsed rest. */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const blocks = buffer.replace(/\r\n/g, "\n").split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    const event: SseEvent = {};
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) event.comment = line.slice(1).trim();
      else {
        const [field, ...value] = line.split(":");
        const text = value.join(":").replace(/^ /, "");
        if (field === "data") event.data = event.data === undefined ? text : `${event.data}\n${text}`;
        else if (field === "event") event.event = text;
        else if (field === "id") event.id = text;
      }
    }
    events.push(event);
  }
  return { events, rest };
}

/** Reads an SSE response as it arrives, calling `onEvent` for each event; stops when it returns false. */
export async function readSse(
  response: Response,
  onEvent: (event: SseEvent, elapsedMs: number) => boolean | void,
): Promise<SseEvent[]> {
  const started = performance.now();
  const all: SseEvent[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const parsed = parseSse(buffer + value);
      buffer = parsed.rest;
      for (const event of parsed.events) {
        all.push(event);
        if (onEvent(event, performance.now() - started) === false) return all;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return all;
}
