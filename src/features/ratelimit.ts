import { LIMITS, REDIS } from "../versions.js";
import type { Feature } from "./types.js";

export const ratelimit: Feature = {
  id: "ratelimit",
  description: "Rate limits per API key or client address (429 with Retry-After), in memory or Redis",
  option: {
    label: "Rate limits",
    hint: "per key or client address, 429 with Retry-After; in memory, or Redis with REDIS_URL",
    default: true,
  },
  pythonDependencies: [LIMITS, REDIS],
  setups: ["ratelimit"],
  settings: [
    {
      name: "rate_limit",
      type: "str",
      default: 'Field(default="60/minute", min_length=1)',
      example: "60/minute",
      refused: "often",
      description:
        'Requests allowed per API key (or client address), e.g. "60/minute" or "5/second;300/hour"; a stream counts once; "off" for none.',
    },
    {
      name: "redis_url",
      type: "SecretStr | None",
      default: "None",
      example: "",
      description: "redis:// URL of a Redis shared by all Machines (e.g. `fly redis create`); unset: each Machine counts in memory.",
      secret: true,
      refused: "http://cache.internal:6379",
    },
  ],
};
