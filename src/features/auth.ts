import { GENERATOR } from "../meta.js";
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
  // Wraps the rate limit, which then counts per the key auth identified.
  after: ["ratelimit"],
  contributes: {
    settingChecks: ["auth.check_keys"],
    middleware: ["auth"],
    lifespans: { auth: {} },
    apiDependencies: ["auth.api_key"],
    apiResponses: { "401": "auth.UNAUTHORIZED" },
    settings: {
      api_keys: {
        type: "SecretStr | None",
        default: "None",
        example: "",
        description:
          "API keys clients send as `Authorization: Bearer <key>`, comma-separated (old and new during a rotation); unset: no key needed, except on Fly.io, where the app then refuses to start.",
        secret: true,
        refused: "too-short-key",
      },
      docs_enabled: {
        type: "bool",
        default: "True",
        example: "true",
        description: "Serve /docs, /redoc and /openapi.json, without a key; false answers 404 (e.g. in production).",
        refused: "sometimes",
      },
    },
    errorCodes: { unauthorized: 401 },
    clientHeaders: { authorization: "Bearer $API_KEY" },
    secrets: { API_KEYS: { generate: generateApiKey, bearer: true } },
    readme: {
      "api-keys": {
        at: "deploy",
        text: [
          "On Fly.io the app refuses to start without `API_KEYS` (comma-separated keys; clients send one as",
          `\`Authorization: Bearer\`). \`npx ${GENERATOR.name} deploy\` generates one when none is set and shows`,
          "it once; see the generator's docs/security.md for rotation.",
        ].join("\n"),
      },
    },
  },
};
