import { Ajv } from "ajv";
import { execa } from "execa";
import fs from "fs-extra";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProjectOptions } from "../../src/options.js";
import { planProject, type Plan } from "../../src/plan.js";
import { resolveOptions } from "../../src/resolve.js";
import { FASTMCP } from "../../src/versions.js";
import { connectMcp, openaiClient, streamCompletion } from "../support/agents.js";
import { runCli } from "../support/cli.js";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { projectEnv, serveProject, type RunningApp } from "../support/serve.js";

/**
 * The agent-ready API of a generated project, driven by clients nobody here wrote: the
 * official openai SDK through the gateway (with the mock, and in front of an
 * OpenAI-compatible provider), and the official MCP SDK at /mcp.
 */

// The key clients send to the app (API_KEYS), and the provider's key only the server knows.
const CLIENT_KEY = "sk-api-client-key-for-the-e2e-tests";
const SERVER_KEY = "sk-provider-key-only-the-server-knows";
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const planFor = async (features: Record<string, boolean> = {}) =>
  planProject(await resolveOptions({ directory: "my-api", install: false, git: false, features } as Partial<ProjectOptions>, { kind: "defaults" }));
const paths = (plan: Plan) => plan.files.map((f) => f.path);
const file = (plan: Plan, name: string) => plan.files.find((f) => f.path === name)?.content ?? "";

describe("the agent options", () => {
  it("default to gateway and tools on, mcp off; each brings its own files, and only mcp a dependency", async () => {
    const defaults = await planFor();
    expect(defaults.features).toEqual(expect.arrayContaining(["gateway", "tools"]));
    expect(defaults.features).not.toContain("mcp");
    expect(paths(defaults)).toEqual(
      expect.arrayContaining(["app/routes/gateway.py", "tests/test_gateway.py", "docs/gateway.md", "app/routes/tools.py", "tests/test_tools.py"]),
    );
    expect(paths(defaults).filter((p) => p.includes("mcp"))).toEqual([]);
    expect(file(defaults, "pyproject.toml")).not.toContain("fastmcp");

    const none = await planFor({ gateway: false, tools: false });
    expect(paths(none).filter((p) => /gateway|tools/.test(p))).toEqual([]);
    expect(file(none, "app/api.py")).not.toMatch(/(gateway|tools)\.router/);

    const mcp = await planFor({ mcp: true });
    expect(paths(mcp)).toEqual(expect.arrayContaining(["app/routes/mcp.py", "tests/test_mcp.py", "docs/mcp.md"]));
    expect(file(mcp, "pyproject.toml")).toContain(JSON.stringify(FASTMCP));
    expect(file(mcp, "app/api.py")).toContain("api_router.include_router(mcp.router)");
  });
});

describe("agent-ready API: --gateway --tools --mcp", () => {
  let root: string;
  let dir: string;
  let upstream: FakeUpstream;
  let mock: RunningApp;
  let proxied: RunningApp;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "cff-agents-"));
    dir = path.join(root, "agents");
    const args = [dir, "--gateway", "--tools", "--mcp", "--auth", "--yes", "--no-git", "--install", "--json"];
    const result = await runCli(args);
    if (result.exitCode !== 0) throw new Error(`CLI failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
    const doc = JSON.parse(result.stdout);
    expect(doc.features).toEqual(expect.arrayContaining(["gateway", "tools", "mcp", "auth"]));
    upstream = await startFakeUpstream();
    // Both servers require the client key; the second calls the fake provider with its own key.
    [mock, proxied] = await Promise.all([
      serveProject(dir, { API_KEYS: CLIENT_KEY }),
      serveProject(dir, {
        API_KEYS: CLIENT_KEY,
        PROVIDER: "openai-compatible",
        BASE_URL: upstream.baseUrl,
        INFERENCE_API_KEY: SERVER_KEY,
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([mock?.stop(), proxied?.stop()]);
    await upstream?.close();
    if (root) await fs.remove(root);
  });

  it("passes ruff check, ruff format --check and its own pytest suite (gateway, tools and mcp tests included)", { timeout: 300_000 }, async () => {
    const ruff = path.join(dir, ".venv/bin/ruff");
    const check = await execa(ruff, ["check", "."], { cwd: dir, reject: false });
    expect(check.exitCode, check.stdout).toBe(0);
    const format = await execa(ruff, ["format", "--check", "."], { cwd: dir, reject: false });
    expect(format.exitCode, format.stdout).toBe(0);
    const pytest = await execa(path.join(dir, ".venv/bin/pytest"), ["-q", "-p", "no:cacheprovider"], {
      cwd: dir,
      reject: false,
      env: projectEnv({ CI: "true" }),
      extendEnv: false,
    });
    expect(pytest.exitCode, pytest.stdout.slice(-3000)).toBe(0);
    for (const file of ["test_gateway.py", "test_tools.py", "test_mcp.py"]) {
      expect(await fs.pathExists(path.join(dir, "tests", file)), file).toBe(true);
    }
  });

  it("the openai SDK streams a completion from the gateway with the mock provider", async () => {
    const { text, usage } = await streamCompletion(openaiClient(mock.origin, CLIENT_KEY), "any-model", "agents speak openai");
    expect(text).toBe("agents speak openai");
    expect(usage?.completion_tokens).toBe(3);

    const models = await openaiClient(mock.origin, CLIENT_KEY).models.list();
    expect(models.data.map((m) => m.id)).toEqual(["mock-echo"]);
  });

  it("the openai SDK streams from the provider through the gateway, which sends the server's key", async () => {
    upstream.behave({ kind: "stream", tokens: ["Fly", " agents", " stream"], usage: true });
    const before = upstream.requests.length;
    const { text, usage } = await streamCompletion(openaiClient(proxied.origin, CLIENT_KEY), "upstream-model", "hi");
    expect(text).toBe("Fly agents stream");
    expect(usage?.total_tokens).toBe(6);

    const [request, ...others] = upstream.requests.slice(before);
    expect(others).toHaveLength(0);
    expect(request!.path).toBe("/v1/chat/completions");
    expect(request!.authorization).toBe(`Bearer ${SERVER_KEY}`);
    expect(request!.body).toMatchObject({ model: "upstream-model", stream: true, messages: [{ role: "user", content: "hi" }] });

    const completion = await openaiClient(proxied.origin, CLIENT_KEY).chat.completions.create({
      model: "upstream-model",
      messages: [{ role: "user", content: "whole answer" }],
    });
    expect(completion.choices[0]!.message.content).toBe("Fly agents stream");
  });

  it("the provider's errors reach the SDK with their status code; a wrong client key is refused", async () => {
    upstream.behave({ kind: "status", status: 429, message: `slow down ${SERVER_KEY}`, retryAfter: "2" });
    const error = await streamCompletion(openaiClient(proxied.origin, CLIENT_KEY), "m", "hi").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).status).toBe(429);
    expect(JSON.stringify((error as InstanceType<typeof OpenAI.RateLimitError>).error)).not.toContain(SERVER_KEY);

    const refused = await streamCompletion(openaiClient(proxied.origin, "sk-wrong-key-0123456789"), "m", "hi").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    upstream.behave({ kind: "stream", tokens: ["Hello", " from", " upstream"], usage: true });
  });

  it("closes the upstream request when the SDK's client aborts", async () => {
    const aborted = upstream.requests.filter((r) => r.abortedEarly).length;
    upstream.behave({ kind: "stream", tokens: Array.from({ length: 200 }, (_, i) => ` t${i}`), delayMs: 50 });
    const controller = new AbortController();
    const stream = await openaiClient(proxied.origin, CLIENT_KEY).chat.completions.create(
      { model: "m", messages: [{ role: "user", content: "a long answer" }], stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content && ++seen === 3) controller.abort();
    })().catch(() => {});
    expect(seen).toBe(3);
    // Long before the 10 s the whole answer would take.
    await upstream.waitForAborts(aborted + 1, 5_000);
    upstream.behave({ kind: "stream", tokens: ["Hello", " from", " upstream"], usage: true });
  });

  it("GET /v1/tools lists the operations as valid OpenAI function tools", async () => {
    const response = await fetch(`${mock.origin}/v1/tools`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(response.status).toBe(200);
    const tools: OpenAI.ChatCompletionFunctionTool[] = await response.json();
    const names = tools.map((t) => t.function.name);
    expect(names).toEqual(expect.arrayContaining(["chat", "healthz"]));
    expect(names).not.toContain("chat_stream");
    expect(names).not.toContain("create_chat_completion");
    expect(new Set(names).size).toBe(names.length);
    expect(JSON.stringify(tools)).not.toContain("$ref");

    const ajv = new Ajv({ strict: false });
    for (const tool of tools) {
      expect(tool.type).toBe("function");
      expect(tool.function.name).toMatch(TOOL_NAME);
      expect(tool.function.description).toBeTruthy();
      expect(ajv.validateSchema(tool.function.parameters!), tool.function.name).toBe(true);
    }
    const chat = ajv.compile(tools.find((t) => t.function.name === "chat")!.function.parameters!);
    expect(chat({ messages: [{ role: "user", content: "hi" }] })).toBe(true);
    expect(chat({ messages: [{ role: "robot", content: "hi" }] })).toBe(false);

    const anonymous = await fetch(`${mock.origin}/v1/tools`);
    expect(anonymous.status).toBe(401);
  });

  it("the MCP SDK lists the tools at /mcp and calls one, behind the same API key", async () => {
    await expect(connectMcp(mock.origin)).rejects.toMatchObject({ code: 401 });

    const client = await connectMcp(mock.origin, CLIENT_KEY);
    try {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["chat", "healthz"]));
      expect(names).not.toContain("chat_stream");

      const result = await client.callTool({ name: "chat", arguments: { messages: [{ role: "user", content: "tools over mcp" }] } });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ text: "tools over mcp", finish_reason: "stop" });
    } finally {
      await client.close();
    }
  });
});
