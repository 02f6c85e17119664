import type { Feature } from "./types.js";

/**
 * A fresh API key: 256 random bits, URL-safe, with a prefix that says what it is. From Web
 * Crypto's CSPRNG (global in Node 20), so that a run that generates no key does not load node:crypto.
 */
export function generateApiKey(): string {
  return `sk-api-${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
}

export const auth: Feature = {
  id: "auth",
  description: "API keys: Authorization: Bearer on every route but /healthz and the docs",
  option: {
    label: "API keys",
    hint: "Bearer keys from API_KEYS (several for rotation); the deploy generates one",
    default: true,
  },
  setups: ["auth"],
  settings: [
    {
      name: "api_keys",
      type: "SecretStr | None",
      default: "None",
      example: "",
      description:
        "API keys clients send as `Authorization: Bearer <key>`, comma-separated (old and new during a rotation); unset: no key needed, except on Fly.io, where the app then refuses to start.",
      secret: true,
      refused: "too-short-key",
    },
    {
      name: "docs_enabled",
      type: "bool",
      default: "True",
      example: "true",
      description: "Serve /docs, /redoc and /openapi.json, without a key; false answers 404 (e.g. in production).",
      refused: "sometimes",
    },
  ],
  secrets: () => ["API_KEYS"],
  generatedSecrets: { API_KEYS: { generate: generateApiKey, bearer: true } },
};
