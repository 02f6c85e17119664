/**
 * How many Machines a deploy makes, and why. `fly deploy` makes 2 in the primary region on the
 * first deploy unless given `--ha=false` (internal/command/deploy/deploy.go); the deploy here
 * always passes one or the other, decided from fly.toml, and says what it chose.
 */
import { parse } from "smol-toml";

/** What fly.toml says about the Machines (the parts the decision and the estimate need). */
export interface FlyMachineConfig {
  primaryRegion: string;
  size: string;
  memoryMb: number;
  /** `auto_stop_machines` is "stop" or "suspend": the proxy stops idle Machines. */
  scaleToZero: boolean;
  /** `min_machines_running`: kept running in the primary region only, when Machines scale to zero. */
  minRunning: number;
  /** `[[mounts]]`: a volume per Machine, in GB. */
  volumeGb: number;
}

export interface MachinePlan {
  /** Passed to `fly deploy` as `--ha=…`. */
  ha: boolean;
  why: string;
  /** One entry per region, the primary region first. */
  regions: { region: string; machines: number; alwaysOn: number }[];
}

/** "512mb", "1gb", 1024 → MB. */
function megabytes(value: unknown, fallback: number): number {
  if (typeof value === "number") return value;
  const match = typeof value === "string" ? /^(\d+(?:\.\d+)?)\s*(mb|gb)?$/i.exec(value.trim()) : null;
  if (!match) return fallback;
  return Number(match[1]) * (match[2]?.toLowerCase() === "gb" ? 1024 : 1);
}

type Table = Record<string, unknown>;
const table = (value: unknown): Table => (value && typeof value === "object" && !Array.isArray(value) ? (value as Table) : {});
/** `[[vm]]` and `[[mounts]]` are arrays of tables; a single `[vm]` table is accepted too. */
const tables = (value: unknown): Table[] => (Array.isArray(value) ? value.map(table) : value ? [table(value)] : []);

/** fly.toml's Machine settings, with Fly's defaults for what it leaves out. */
export function readFlyConfig(text: string): FlyMachineConfig {
  const config = parse(text) as Table;
  const vm = tables(config.vm)[0] ?? {};
  const service = table(config.http_service);
  const autoStop = service.auto_stop_machines;
  return {
    primaryRegion: typeof config.primary_region === "string" ? config.primary_region : "iad",
    size: typeof vm.size === "string" ? vm.size : "shared-cpu-1x",
    memoryMb: megabytes(vm.memory ?? vm.memory_mb, 256),
    // Older fly.toml files say true/false; Fly's default is "off".
    scaleToZero: autoStop === true || autoStop === "stop" || autoStop === "suspend",
    minRunning: typeof service.min_machines_running === "number" ? service.min_machines_running : 0,
    volumeGb: tables(config.mounts).reduce((sum, mount) => sum + megabytes(mount.initial_size ?? "1gb", 1024) / 1024, 0),
  };
}

/**
 * One Machine per region unless there is a reason for a spare. With Machines that scale to
 * zero, two in a region are worse for streams: under light load the proxy stops one of them
 * even while it streams, and a lone Machine stops only when idle (the proxy starts it again on
 * the next request). Always-on Machines (or min_machines_running ≥ 2) get the spare flyctl
 * would make. `--ha`/`--no-ha` decide it outright.
 */
export function planMachines(config: FlyMachineConfig, extraRegions: readonly string[], ha?: boolean): MachinePlan {
  const primary = config.primaryRegion;
  let why: string;
  if (ha !== undefined) {
    why = ha ? `--ha: a spare Machine in ${primary}` : `--no-ha: one Machine in ${primary}`;
  } else if (!config.scaleToZero) {
    ha = true;
    why = `fly.toml keeps Machines always on, so ${primary} gets a spare that keeps the app up through a host failure (--no-ha for one)`;
  } else if (config.minRunning >= 2) {
    ha = true;
    why = `fly.toml keeps ${config.minRunning} running (min_machines_running)`;
  } else {
    ha = false;
    why = `the app scales to zero: with 2 Machines in a region Fly's proxy stops one under light load even mid-stream, one stops only when idle (--ha for a spare)`;
  }
  const onAll = (machines: number, isPrimary: boolean) => (config.scaleToZero ? (isPrimary ? Math.min(config.minRunning, machines) : 0) : machines);
  const primaryCount = ha ? 2 : 1;
  return {
    ha,
    why,
    regions: [
      { region: primary, machines: primaryCount, alwaysOn: onAll(primaryCount, true) },
      ...extraRegions.filter((r) => r !== primary).map((region) => ({ region, machines: 1, alwaysOn: onAll(1, false) })),
    ],
  };
}

/**
 * The Machines an app already has (`fly status`): a deploy updates them and makes no others,
 * besides one in each extra region it does not have yet.
 */
export function keptMachines(config: FlyMachineConfig, running: Record<string, number>, extraRegions: readonly string[], ha: boolean): MachinePlan {
  const added = extraRegions.filter((region) => !(region in running));
  const entries = [
    ...Object.entries(running).sort(([a], [b]) => (a === config.primaryRegion ? -1 : b === config.primaryRegion ? 1 : a.localeCompare(b))),
    ...added.map((region) => [region, 1] as const),
  ];
  return {
    ha,
    why: `the app already has Machines: a deploy updates them${added.length ? `, and adds one in ${added.join(", ")}` : ""} (fly scale count changes how many)`,
    regions: entries.map(([region, machines]) => ({
      region,
      machines,
      alwaysOn: config.scaleToZero ? (region === config.primaryRegion ? Math.min(config.minRunning, machines) : 0) : machines,
    })),
  };
}
