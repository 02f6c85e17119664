import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import OpenAI from "openai";
import { expect } from "vitest";

/** The official openai SDK pointed at a generated app's gateway, never retrying. */
export function openaiClient(origin: string, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${origin}/v1`, apiKey, maxRetries: 0, timeout: 15_000 });
}

/** Streams a chat completion through the gateway; returns the text and the chunks' usage. */
export async function streamCompletion(client: OpenAI, model: string, content: string) {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: "user", content }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let chunks = 0;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    chunks++;
    expect(chunk.object).toBe("chat.completion.chunk");
    text += chunk.choices[0]?.delta?.content ?? "";
    usage = chunk.usage ?? usage;
  }
  return { text, chunks, usage };
}

/** The official MCP SDK's client, connected to `/mcp` over streamable HTTP. */
export async function connectMcp(origin: string, apiKey?: string): Promise<Client> {
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { requestInit: { headers } });
  const client = new Client({ name: "create-fly-fastapi-e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}
