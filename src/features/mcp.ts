import { byDistribution } from "./contributions.js";
import type { Feature } from "./types.js";
import { FASTMCP } from "../versions.js";

/**
 * The app's operations as MCP tools over streamable HTTP at /mcp, through
 * FastMCP (FastMCP.from_fastapi). Off by default: FastMCP brings 36 more packages
 * (about 35 MB) and a second of imports at startup, which only MCP users need.
 */
export const mcp: Feature = {
  id: "mcp",
  description: "MCP server at /mcp (streamable HTTP) exposing the API's operations as tools",
  option: {
    label: "MCP server",
    hint: "the API's operations as MCP tools at /mcp (adds the fastmcp dependency)",
    default: false,
  },
  contributes: {
    dependencies: byDistribution([FASTMCP]),
    routers: ["mcp"],
    // Each tool call is a request of its own to the operation, counted there; /mcp itself would
    // count the session's handshake and listings too.
    unmeteredPaths: ["/mcp"],
    docs: { "mcp.md": "MCP server" },
  },
};
