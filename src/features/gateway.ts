import type { Feature } from "./types.js";

/**
 * An OpenAI-compatible gateway: any OpenAI SDK pointed at the app reaches the
 * configured provider through it, and the provider's key stays on the server.
 * On by default: it is small (no extra dependency) and is what most clients speak.
 */
export const gateway: Feature = {
  id: "gateway",
  description: "OpenAI-compatible POST /v1/chat/completions and GET /v1/models in front of the provider",
  option: {
    label: "OpenAI-compatible gateway",
    hint: "/v1/chat/completions and /v1/models for any OpenAI SDK; the provider key stays on the server",
    default: true,
  },
  contributes: {
    routers: ["gateway"],
    settings: {
      gateway_models: {
        type: "list[str]",
        default: "[]",
        example: "[]",
        description: "Models that gateway clients may ask for, as a JSON list; MODEL always is, and [] allows any",
        refused: "gpt-5-mini, gpt-5",
      },
    },
    docs: { "gateway.md": "OpenAI-compatible gateway" },
  },
};
