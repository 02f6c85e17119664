// The chat page's script. It sends the conversation to POST /v1/chat/stream and shows the
// answer as it streams. EventSource can only GET, so the stream is read with fetch() and a
// ReadableStream and parsed here as Server-Sent Events: blocks separated by a blank line,
// `event:` and `data:` fields, and `:` comment lines (the keep-alive pings).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("chat");
  const prompt = $("prompt");
  const send = $("send");
  const stop = $("stop");
  const log = $("log");
  const errorBox = $("error");
  const status = $("status");
  const keyRow = $("key-row");
  const keyInput = $("key");

  /** The conversation so far, sent whole with every request. */
  const history = [];
  /** Aborts the answer being streamed; null when none is. */
  let controller = null;

  /** Parses the complete SSE blocks of `buffer`; returns them and the unfinished rest. */
  function parseEvents(buffer) {
    // A "\r" at the very end may be the first half of a "\r\n" still on its way.
    const held = buffer.endsWith("\r") ? "\r" : "";
    const blocks = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n").split("\n\n");
    const rest = blocks.pop() + held;
    const events = [];
    for (const block of blocks) {
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue; // a comment, such as `: ping`
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      }
      if (data.length > 0) events.push({ event: name, data: data.join("\n") });
    }
    return { events, rest };
  }

  function addMessage(role, text) {
    const item = document.createElement("li");
    item.className = `message ${role}`;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.append(body);
    log.append(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function addMeta(item, text) {
    const meta = document.createElement("small");
    meta.className = "meta";
    meta.textContent = text;
    item.append(meta);
  }

  /** idle, streaming, done, stopped or error: also on <body data-state> for tests and styles. */
  function setState(state, note) {
    document.body.dataset.state = state;
    status.textContent = note;
    send.disabled = state === "streaming";
    stop.disabled = state !== "streaming";
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function showRegion(region) {
    if (region) $("region").textContent = `served from ${region} · `;
  }

  /** An Error with the server's own words for a failed response. */
  async function httpError(response) {
    let message = `The server answered ${response.status} ${response.statusText}`.trim() + ".";
    try {
      const body = await response.json();
      if (typeof body?.error?.message === "string") message = body.error.message;
      else if (typeof body?.detail === "string") message = body.detail;
      else if (Array.isArray(body?.detail)) message = body.detail.map((d) => d.msg).join("; ");
    } catch {
      // Not JSON: keep the status line.
    }
    const retryAfter = response.headers.get("retry-after");
    if (retryAfter) message += ` Retry in ${retryAfter} s.`;
    return Object.assign(new Error(message), { status: response.status });
  }

  async function ask(text) {
    errorBox.hidden = true;
    history.push({ role: "user", content: text });
    addMessage("user", text);
    const answer = addMessage("assistant", "");
    const answerText = answer.querySelector(".text");
    answer.classList.add("streaming");
    controller = new AbortController();
    setState("streaming", "Answering… (Esc stops)");
    let received = "";
    let outcome = "error";
    try {
      const headers = { "content-type": "application/json", accept: "text/event-stream" };
      // Only sent when there is a key; an API without auth ignores it.
      const key = keyInput.value.trim();
      if (key) headers.authorization = `Bearer ${key}`;
      const response = await fetch("/v1/chat/stream", {
        method: "POST",
        headers,
        body: JSON.stringify({ messages: history }),
        signal: controller.signal,
      });
      showRegion(response.headers.get("fly-region"));
      if (!response.ok) {
        const error = await httpError(response);
        if (error.status === 401 || error.status === 403) {
          keyRow.hidden = false;
          keyInput.focus();
          error.message = `${error.message} This API needs a key: paste it in the API key field.`;
        }
        throw error;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parsed = parseEvents(buffer + value);
        buffer = parsed.rest;
        for (const { event, data } of parsed.events) {
          const payload = JSON.parse(data);
          if (event === "delta") {
            received += payload.text;
            answerText.textContent = received;
          } else if (event === "done") {
            outcome = "done";
            const tokens = payload.usage ? ` · ${payload.usage.completion_tokens} tokens` : "";
            const cut = payload.finish_reason && payload.finish_reason !== "stop" ? ` · ${payload.finish_reason}` : "";
            addMeta(answer, `${payload.model}${tokens}${cut}`);
          } else if (event === "error") {
            showError(`${payload.message} (${payload.code})`);
          }
        }
      }
      if (outcome !== "done" && errorBox.hidden) showError("The answer ended early; send again to retry.");
    } catch (error) {
      if (error.name === "AbortError") {
        outcome = "stopped";
        addMeta(answer, "stopped");
      } else {
        showError(error.message || String(error));
      }
    } finally {
      controller = null;
      answer.classList.remove("streaming");
      if (received) {
        history.push({ role: "assistant", content: received });
      } else {
        // Nothing came back: forget the question, so the next one is not sent twice.
        history.pop();
        if (outcome !== "stopped") answer.remove();
      }
      setState(outcome, { done: "", stopped: "Stopped.", error: "Failed." }[outcome]);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (!text || controller) return;
    prompt.value = "";
    ask(text);
  });
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      controller?.abort();
    }
  });
  stop.addEventListener("click", () => controller?.abort());

  // The key stays in this tab only (sessionStorage), never in a cookie or on the server.
  keyInput.value = sessionStorage.getItem("api-key") ?? "";
  keyInput.addEventListener("input", () => sessionStorage.setItem("api-key", keyInput.value));

  // Which model answers, from /healthz (it never calls the provider).
  fetch("/healthz")
    .then((response) => (response.ok ? response.json() : null))
    .then((health) => {
      if (!health) return;
      const provider = health.provider === "mock" ? "offline mock" : health.provider;
      $("model").textContent = `${health.model} · ${provider}`;
      if (health.region) showRegion(health.region);
    })
    .catch(() => {});
  prompt.focus();
})();
