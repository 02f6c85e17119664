import type { Feature } from "./types.js";

/** The port of the metrics listener; fly.toml's [metrics] and [env] name it. */
export const METRICS_PORT = 9091;

export const observability: Feature = {
  id: "observability",
  description: "JSON request logs with request ids, Prometheus metrics at /metrics and for Fly's [metrics]",
  option: {
    label: "Observability",
    hint: "one JSON log line per request, X-Request-ID, Prometheus metrics (fly.toml [metrics])",
    default: true,
  },
  // Outermost of the hardening middleware: it sees every answer, a 401 or 429 too.
  after: ["ratelimit", "auth"],
  contributes: {
    settingChecks: ["observability.check_metrics_host"],
    middleware: ["observability"],
    lifespans: { observability: { state: "metrics" } },
    routers: ["metrics"],
    unmeteredPaths: ["/metrics"],
    settings: {
      metrics_port: {
        type: "int | None",
        default: "Field(default=None, ge=1, le=65535)",
        example: "",
        description: `Also serve GET /metrics, without a key, on this port for Fly's Prometheus (fly.toml sets ${METRICS_PORT}; the proxy never exposes it); unset: only /metrics behind the API key.`,
        refused: "65536",
      },
      metrics_host: {
        type: "str",
        default: '"0.0.0.0"',
        example: "0.0.0.0",
        description: "Address the METRICS_PORT listener binds.",
        refused: "0.0.0.0:9091",
      },
    },
    flyEnv: {
      METRICS_PORT: { value: String(METRICS_PORT), comment: "The listener [metrics] scrapes; the proxy never exposes this port." },
    },
    flySections: {
      metrics: {
        comment: "Fly's Prometheus scrapes the app's metrics here (Grafana at fly-metrics.net).",
        table: { port: METRICS_PORT, path: "/metrics" },
      },
    },
  },
};
