import { PORT } from "../meta.js";
import type { Feature } from "./types.js";

/**
 * The chat page: `GET /` serves one static page (no build step, no CDN) that streams answers
 * from POST /v1/chat/stream with fetch() and a ReadableStream, with a stop button and errors
 * shown inline. When the project has the `auth` feature the page shows an API key field from
 * the start; otherwise the field appears only if the API answers 401.
 */
export const ui: Feature = {
  id: "ui",
  description: "Chat page at GET /: type a prompt, watch the answer stream, stop it",
  option: {
    label: "Chat page",
    hint: "GET / serves a small page that streams answers (no build step, no CDN)",
    default: true,
  },
  contributes: {
    routers: ["ui"],
    publicPaths: ["/", "/ui/chat.js", "/ui/chat.css"],
    docs: { "ui.md": "Chat page" },
    tips: { chat_page: `Then open http://127.0.0.1:${PORT}/ to chat with it.` },
  },
};
