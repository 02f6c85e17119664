/**
 * What a deploy will cost a month, from the price table (src/deploy/prices.ts) and what
 * fly.toml and the Machine plan say. A range when Machines scale to zero: from idle all month
 * (a stopped Machine pays for its disk) to busy all month.
 */
import { keptMachines, planMachines, readFlyConfig, type FlyMachineConfig, type MachinePlan } from "./machines.js";
import { FLY_PRICES } from "./prices.js";

export interface CostLine {
  what: string;
  /** USD for 30 days: the least (idle all month) and the most (busy all month). */
  low: number;
  high: number;
}

export interface CostEstimate {
  currency: "USD";
  /** USD for 30 days, idle all month and busy all month (equal when nothing scales to zero); null for a size the table lacks. */
  low: number | null;
  high: number | null;
  lines: CostLine[];
  /** The price table's date and source. */
  prices: { date: string; source: string; region: string };
  /** One line for a person: the figure, what it is made of, and the table's date. */
  summary: string;
}

const cents = (usd: number) => Math.round(usd * 100) / 100;
const usd = (value: number) => `$${value.toFixed(2)}`;
const memory = (mb: number) => (mb >= 1024 ? `${mb / 1024} GB` : `${mb} MB`);

/** The running price of one Machine of this size, or undefined for a size the table lacks. */
export function machinePrice(size: string, memoryMb: number): number | undefined {
  const preset = FLY_PRICES.presets[size];
  if (!preset) return undefined;
  return preset.usd + (Math.max(0, memoryMb - preset.memoryMb) / 1024) * FLY_PRICES.extraRamPerGb;
}

/** Databases Fly runs beside the Machines: a Managed Postgres plan and its storage, an Upstash Redis. */
export interface ServiceExtras {
  postgres?: { plan: string; storageGb: number };
  /** Priced per command: shown, but no part of the figure. */
  redis?: boolean;
}

export function estimateCost(config: FlyMachineConfig, machines: MachinePlan, extras: ServiceExtras = {}): CostEstimate {
  const running = machinePrice(config.size, config.memoryMb);
  const prices = { date: FLY_PRICES.date, source: FLY_PRICES.source, region: FLY_PRICES.region };
  if (running === undefined) {
    return { currency: "USD", low: null, high: null, lines: [], prices, summary: `not estimated: the Fly.io prices of ${FLY_PRICES.date} have no ${config.size}` };
  }
  const stopped = FLY_PRICES.rootfsGb * FLY_PRICES.stoppedRootfsPerGb;
  const total = machines.regions.reduce((sum, r) => sum + r.machines, 0);
  const alwaysOn = machines.regions.reduce((sum, r) => sum + r.alwaysOn, 0);
  const vm = `${config.size} ${memory(config.memoryMb)}`;
  const lines: CostLine[] = [];
  if (alwaysOn > 0) lines.push({ what: `${alwaysOn} × ${vm} always on`, low: alwaysOn * running, high: alwaysOn * running });
  if (total > alwaysOn) {
    const n = total - alwaysOn;
    lines.push({ what: `${n} × ${vm} scaling to zero (idle → busy all month)`, low: n * stopped, high: n * running });
  }
  if (config.volumeGb > 0) {
    const cost = total * config.volumeGb * FLY_PRICES.volumePerGb;
    lines.push({ what: `${total} × ${config.volumeGb} GB volume`, low: cost, high: cost });
  }
  if (extras.postgres) {
    const plan = FLY_PRICES.postgresPlans[extras.postgres.plan.toLowerCase()];
    if (plan === undefined) throw new Error(`no price for the Managed Postgres plan ${extras.postgres.plan}`);
    const cost = plan + extras.postgres.storageGb * FLY_PRICES.postgresStoragePerGb;
    lines.push({ what: `Managed Postgres ${extras.postgres.plan}, ${extras.postgres.storageGb} GB`, low: cost, high: cost });
  }
  if (extras.redis) {
    lines.push({ what: `Upstash Redis, pay as you go: $${FLY_PRICES.redisPer100kCommands.toFixed(2)} per 100K commands (with the traffic, not in the figure)`, low: 0, high: 0 });
  }
  const low = cents(lines.reduce((sum, l) => sum + l.low, 0));
  const high = cents(lines.reduce((sum, l) => sum + l.high, 0));
  const regions = machines.regions.map((r) => `${r.machines} in ${r.region}`).join(", ");
  const figure = low === high ? usd(high) : `${usd(low)}–${usd(high)}`;
  const mode = alwaysOn === total ? "always on" : alwaysOn > 0 ? `${alwaysOn} always on, the rest scale to zero` : "scale to zero";
  return {
    currency: "USD",
    low,
    high,
    lines: lines.map((l) => ({ ...l, low: cents(l.low), high: cents(l.high) })),
    prices,
    summary: `${figure} a month: ${total} × ${vm} (${regions}), ${mode}${extras.postgres ? ", Postgres" : ""}${extras.redis ? ", Redis per command" : ""}${config.volumeGb ? ", volumes" : ""} · Fly.io prices of ${FLY_PRICES.date}`,
  };
}

/**
 * The Machines a deploy of this fly.toml makes (see planMachines) and what they cost a month.
 * `running`: the Machines the app already has, by region; a deploy keeps those instead.
 */
export function deployEstimate(
  flyToml: string,
  extraRegions: readonly string[],
  ha?: boolean,
  running?: Record<string, number>,
  services: ServiceExtras = {},
): { machines: MachinePlan; estimate: CostEstimate } {
  const config = readFlyConfig(flyToml);
  const planned = planMachines(config, extraRegions, ha);
  const kept = running && Object.keys(running).length > 0 ? keptMachines(config, running, extraRegions, planned.ha) : undefined;
  const machines = kept ?? planned;
  return { machines, estimate: estimateCost(config, machines, services) };
}
