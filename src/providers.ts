/** Inference providers: data only. Any OpenAI-compatible endpoint fits the `custom` preset. */
export interface Provider {
  id: string;
  label: string;
  /** OpenAI-compatible base URL; null for the offline mock and for `custom` (asked for). */
  baseUrl: string | null;
  /** Model used when --model is not given; null when it has to be given (custom). */
  defaultModel: string | null;
  /** Environment variable that holds the API key; null when the provider needs none. */
  apiKeyEnv: string | null;
  /** Where to get a key, shown in prompts and docs. */
  keysUrl: string | null;
  hint: string;
  /** The request field that carries max_tokens: OpenAI's newer models want max_completion_tokens. */
  maxTokensParam: "max_tokens" | "max_completion_tokens";
  /** The app refuses to start, and the deploy stops, without its key (a self-hosted server may need none). */
  keyRequired: boolean;
  /** Answers without any network (no base URL, no key): for tests and first runs. */
  offline: boolean;
  /** Shown beside its base URL in the README's list of providers. */
  urlNote?: string;
  /** Shown in the README's deploy section: what a deploy with this preset needs. */
  deployNote?: string;
}

/** The key variable the app reads for any provider, besides a preset's own (`apiKeyEnv`). */
export const INFERENCE_KEY_ENV = "INFERENCE_API_KEY";

export const PROVIDERS = [
  {
    id: "mock",
    label: "Mock",
    baseUrl: null,
    defaultModel: "mock-echo",
    apiKeyEnv: null,
    keysUrl: null,
    hint: "offline, deterministic tokens; no key needed",
    maxTokensParam: "max_tokens",
    keyRequired: false,
    offline: true,
  },
  {
    id: "openai",
    label: "OpenAI",
    baseUrl: "https://api.openai.com/v1",
    defaultModel: "gpt-5-mini",
    apiKeyEnv: "OPENAI_API_KEY",
    keysUrl: "https://platform.openai.com/api-keys",
    hint: "GPT models",
    maxTokensParam: "max_completion_tokens",
    keyRequired: true,
    offline: false,
  },
  {
    id: "groq",
    label: "Groq",
    baseUrl: "https://api.groq.com/openai/v1",
    defaultModel: "llama-3.3-70b-versatile",
    apiKeyEnv: "GROQ_API_KEY",
    keysUrl: "https://console.groq.com/keys",
    hint: "very fast open models on LPUs",
    maxTokensParam: "max_tokens",
    keyRequired: true,
    offline: false,
  },
  {
    id: "together",
    label: "Together AI",
    baseUrl: "https://api.together.xyz/v1",
    defaultModel: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    apiKeyEnv: "TOGETHER_API_KEY",
    keysUrl: "https://api.together.ai/settings/api-keys",
    hint: "open models on GPUs",
    maxTokensParam: "max_tokens",
    keyRequired: true,
    offline: false,
  },
  {
    id: "fireworks",
    label: "Fireworks AI",
    baseUrl: "https://api.fireworks.ai/inference/v1",
    defaultModel: "accounts/fireworks/models/llama-v3p3-70b-instruct",
    apiKeyEnv: "FIREWORKS_API_KEY",
    keysUrl: "https://fireworks.ai/account/api-keys",
    hint: "open models on GPUs",
    maxTokensParam: "max_tokens",
    keyRequired: true,
    offline: false,
  },
  {
    id: "openrouter",
    label: "OpenRouter",
    baseUrl: "https://openrouter.ai/api/v1",
    defaultModel: "meta-llama/llama-3.3-70b-instruct",
    apiKeyEnv: "OPENROUTER_API_KEY",
    keysUrl: "https://openrouter.ai/keys",
    hint: "one key for many providers",
    maxTokensParam: "max_tokens",
    keyRequired: true,
    offline: false,
  },
  {
    id: "deepinfra",
    label: "DeepInfra",
    baseUrl: "https://api.deepinfra.com/v1/openai",
    defaultModel: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    apiKeyEnv: "DEEPINFRA_API_KEY",
    keysUrl: "https://deepinfra.com/dash/api_keys",
    hint: "open models on GPUs",
    maxTokensParam: "max_tokens",
    keyRequired: true,
    offline: false,
  },
  {
    id: "ollama",
    label: "Ollama",
    baseUrl: "http://localhost:11434/v1",
    defaultModel: "llama3.2",
    apiKeyEnv: null,
    keysUrl: null,
    hint: "local models for development; no key",
    maxTokensParam: "max_tokens",
    keyRequired: false,
    offline: false,
    urlNote: "no key; on Fly, run it on its own Machine and use its private `.internal` address",
    deployNote:
      "On Fly there is no Ollama at `localhost`: set `BASE_URL` in `fly.toml` to your Ollama Machine's private\naddress (for example `http://my-ollama.internal:11434/v1`), or use `PROVIDER=mock` for a first deploy.",
  },
  {
    id: "custom",
    label: "Custom",
    baseUrl: null,
    defaultModel: null,
    apiKeyEnv: INFERENCE_KEY_ENV,
    keysUrl: null,
    hint: "any OpenAI-compatible URL: vLLM on Modal or RunPod, LiteLLM, …",
    maxTokensParam: "max_tokens",
    keyRequired: false,
    offline: false,
  },
] as const satisfies readonly Provider[];

export type ProviderId = (typeof PROVIDERS)[number]["id"];

export function findProvider(id: string): Provider | undefined {
  return PROVIDERS.find((p) => p.id === id);
}

/** The preset a project gets when none is chosen: runs offline, so a fresh project works with no key. */
export const DEFAULT_PROVIDER = "mock";

/** A preset whose base URL the user gives (`custom`): no URL of its own, and not offline. */
export const asksForBaseUrl = (provider: Provider | undefined): boolean => provider !== undefined && provider.baseUrl === null && !provider.offline;

/** The preset for any OpenAI-compatible endpoint, named in hints. */
export const CUSTOM_PROVIDER = PROVIDERS.find(asksForBaseUrl)!.id;
