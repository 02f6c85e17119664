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
}

export const PROVIDERS = [
  {
    id: "mock",
    label: "Mock",
    baseUrl: null,
    defaultModel: "mock-echo",
    apiKeyEnv: null,
    keysUrl: null,
    hint: "offline, deterministic tokens; no key needed",
  },
  {
    id: "openai",
    label: "OpenAI",
    baseUrl: "https://api.openai.com/v1",
    defaultModel: "gpt-5-mini",
    apiKeyEnv: "OPENAI_API_KEY",
    keysUrl: "https://platform.openai.com/api-keys",
    hint: "GPT models",
  },
  {
    id: "groq",
    label: "Groq",
    baseUrl: "https://api.groq.com/openai/v1",
    defaultModel: "llama-3.3-70b-versatile",
    apiKeyEnv: "GROQ_API_KEY",
    keysUrl: "https://console.groq.com/keys",
    hint: "very fast open models on LPUs",
  },
  {
    id: "together",
    label: "Together AI",
    baseUrl: "https://api.together.xyz/v1",
    defaultModel: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    apiKeyEnv: "TOGETHER_API_KEY",
    keysUrl: "https://api.together.ai/settings/api-keys",
    hint: "open models on GPUs",
  },
  {
    id: "fireworks",
    label: "Fireworks AI",
    baseUrl: "https://api.fireworks.ai/inference/v1",
    defaultModel: "accounts/fireworks/models/llama-v3p3-70b-instruct",
    apiKeyEnv: "FIREWORKS_API_KEY",
    keysUrl: "https://fireworks.ai/account/api-keys",
    hint: "open models on GPUs",
  },
  {
    id: "openrouter",
    label: "OpenRouter",
    baseUrl: "https://openrouter.ai/api/v1",
    defaultModel: "meta-llama/llama-3.3-70b-instruct",
    apiKeyEnv: "OPENROUTER_API_KEY",
    keysUrl: "https://openrouter.ai/keys",
    hint: "one key for many providers",
  },
  {
    id: "deepinfra",
    label: "DeepInfra",
    baseUrl: "https://api.deepinfra.com/v1/openai",
    defaultModel: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    apiKeyEnv: "DEEPINFRA_API_KEY",
    keysUrl: "https://deepinfra.com/dash/api_keys",
    hint: "open models on GPUs",
  },
  {
    id: "ollama",
    label: "Ollama",
    baseUrl: "http://localhost:11434/v1",
    defaultModel: "llama3.2",
    apiKeyEnv: null,
    keysUrl: null,
    hint: "local models for development; no key",
  },
  {
    id: "custom",
    label: "Custom",
    baseUrl: null,
    defaultModel: null,
    apiKeyEnv: "INFERENCE_API_KEY",
    keysUrl: null,
    hint: "any OpenAI-compatible URL: vLLM on Modal or RunPod, LiteLLM, …",
  },
] as const satisfies readonly Provider[];

export type ProviderId = (typeof PROVIDERS)[number]["id"];

export function findProvider(id: string): Provider | undefined {
  return PROVIDERS.find((p) => p.id === id);
}
