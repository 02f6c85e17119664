import { PROMETHEUS_CLIENT } from "../versions.js";
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
  pythonDependencies: [PROMETHEUS_CLIENT],
  setups: ["observability"],
  unmeteredPaths: ["/metrics"],
  settings: [
    {
      name: "metrics_port",
      type: "int | None",
      default: "Field(default=None, ge=1, le=65535)",
      example: "",
      refused: "65536",
      description: `Also serve GET /metrics, without a key, on this port for Fly's Prometheus (fly.toml sets ${METRICS_PORT}; the proxy never exposes it); unset: only /metrics behind the API key.`,
    },
    {
      name: "metrics_host",
      type: "str",
      default: '"0.0.0.0"',
      example: "0.0.0.0",
      description: "Address the METRICS_PORT listener binds.",
      refused: "0.0.0.0:9091",
    },
  ],
};
