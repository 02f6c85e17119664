import type { Feature } from "./types.js";

/**
 * GET /v1/tools: the app's own operations as OpenAI function-calling tools,
 * derived from the live OpenAPI schema. On by default: no dependency, read-only.
 */
export const tools: Feature = {
  id: "tools",
  description: "GET /v1/tools: the API's operations as OpenAI function-calling tool definitions",
  option: {
    label: "Tool definitions",
    hint: "GET /v1/tools lists the API's operations as OpenAI function-calling tools",
    default: true,
  },
  contributes: {
    routers: ["tools"],
    docs: { "tools.md": "Tool definitions for agents" },
  },
};
