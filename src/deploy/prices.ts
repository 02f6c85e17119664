/**
 * Fly.io's prices, kept as data: the estimate (src/deploy/estimate.ts) reads only this, and
 * prints `date` beside every figure. docs/deploy.md says where each number comes from; update
 * them together when Fly's page changes.
 */
export const FLY_PRICES = {
  /** When the figures were read from the source. */
  date: "2026-08-07",
  source: "https://fly.io/docs/about/pricing/",
  /** Presets cost more in some regions (a markup per region); these are the base figures. */
  region: "iad",
  currency: "USD",
  /**
   * Every figure is for 30 days. superfly/docs renders the preset table from data it does not
   * publish; the shared-cpu-1x figures are checked against the page's own example (docs/deploy.md),
   * the others should be checked against the live page when the table is next updated.
   */
  presets: {
    "shared-cpu-1x": { memoryMb: 256, usd: 1.94 },
    "shared-cpu-2x": { memoryMb: 512, usd: 3.89 },
    "shared-cpu-4x": { memoryMb: 1024, usd: 7.78 },
    "shared-cpu-8x": { memoryMb: 2048, usd: 15.55 },
    "performance-1x": { memoryMb: 2048, usd: 31.0 },
    "performance-2x": { memoryMb: 4096, usd: 62.0 },
    "performance-4x": { memoryMb: 8192, usd: 124.0 },
    "performance-8x": { memoryMb: 16384, usd: 248.0 },
    "performance-16x": { memoryMb: 32768, usd: 496.0 },
  } as Record<string, { memoryMb: number; usd: number } | undefined>,
  /** RAM beyond the preset's, per GB. */
  extraRamPerGb: 5.0,
  /** A stopped Machine pays only for its root file system, per GB. */
  stoppedRootfsPerGb: 0.15,
  /** The root file system assumed for a stopped Machine: the image is a slim Python one, under 1 GB. */
  rootfsGb: 1,
  /** Volumes, per provisioned GB, attached or not. */
  volumePerGb: 0.15,
  /**
   * Managed Postgres plans, and storage per provisioned GB: superfly/docs mpg/index.html.md, "Pricing"
   * (https://fly.io/docs/mpg/#pricing).
   */
  postgresPlans: { basic: 38.0, starter: 72.0, launch: 282.0, scale: 962.0, performance: 1922.0 } as Record<string, number | undefined>,
  postgresStoragePerGb: 0.28,
  /**
   * Upstash Redis on the pay-as-you-go plan `fly redis create` takes, per 100K commands ("requests" in
   * superfly/docs upstash/redis.html.md, "Pricing": https://fly.io/docs/upstash/redis/#pricing). The docs
   * give it no monthly base; data transfer to it is billed apart (about/pricing.html.markerb, "Extensions").
   */
  redisPer100kCommands: 0.2,
} as const;
