import { LIMITS, REDIS } from "../versions.js";
import { byDistribution } from "./contributions.js";
import type { Feature } from "./types.js";

export const ratelimit: Feature = {
  id: "ratelimit",
  description: "Rate limits per API key or client address (429 with Retry-After), in memory or Redis",
  option: {
    label: "Rate limits",
    hint: "per key or client address, 429 with Retry-After; in memory, or Redis with REDIS_URL",
    default: true,
  },
  contributes: {
    dependencies: byDistribution([LIMITS, REDIS]),
    settingChecks: ["ratelimit.parse_limits"],
    middleware: ["ratelimit"],
    lifespans: { ratelimit: { state: "limiter" } },
    apiResponses: { "429": "ratelimit.TOO_MANY" },
    readinessChecks: { rate_limit_storage: { module: "ratelimit", function: "storage_ready" } },
    settings: {
      rate_limit: {
        type: "str",
        default: 'Field(default="60/minute", min_length=1)',
        example: "60/minute",
        description:
          'Requests allowed per API key (or client address), e.g. "60/minute" or "5/second;300/hour"; a stream counts once; "off" for none.',
        refused: "often",
      },
      redis_url: {
        type: "SecretStr | None",
        default: "None",
        example: "",
        description: "redis:// URL of a Redis shared by all Machines (e.g. `fly redis create`); unset: each Machine counts in memory.",
        secret: true,
        refused: "http://cache.internal:6379",
      },
    },
    provisioning: {
      rate_limit_redis: {
        command: "fly redis create",
        description: "an Upstash Redis the Machines share, so a limit holds across them; its URL is set as REDIS_URL",
        service: { kind: "upstash-redis", secret: "REDIS_URL", option: "redis" },
      },
    },
  },
};
