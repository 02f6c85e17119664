import { afterEach, describe, expect, it } from "vitest";
import { deployEstimate, estimateCost, machinePrice } from "../../src/deploy/estimate.js";
import { planMachines, readFlyConfig } from "../../src/deploy/machines.js";
import { FLY_PRICES } from "../../src/deploy/prices.js";
import { runCli as runBuiltCli } from "../support/cli.js";
import { KEY, runCli, useFakeApp, workspace, type Workspace } from "./helpers.js";

const flyToml = (service: string, extra = "") =>
  `app = "a"\nprimary_region = "fra"\n\n[http_service]\n  internal_port = 8080\n${service}\n${extra}\n[[vm]]\n  size = "shared-cpu-1x"\n  memory = "512mb"\n`;
const SCALE_TO_ZERO = '  auto_stop_machines = "stop"\n  min_machines_running = 0';

describe("how many Machines a deploy makes", () => {
  it("one per region when the app scales to zero, saying why", () => {
    const plan = planMachines(readFlyConfig(flyToml(SCALE_TO_ZERO)), ["sin", "fra"]);
    expect(plan).toMatchObject({ ha: false, regions: [{ region: "fra", machines: 1, alwaysOn: 0 }, { region: "sin", machines: 1, alwaysOn: 0 }] });
    expect(plan.why).toMatch(/scales to zero.*stops one under light load even mid-stream.*--ha for a spare/);
  });

  it("a spare in the primary region when Machines stay on, or min_machines_running is 2", () => {
    const alwaysOn = planMachines(readFlyConfig(flyToml('  auto_stop_machines = "off"')), []);
    expect(alwaysOn).toMatchObject({ ha: true, regions: [{ region: "fra", machines: 2, alwaysOn: 2 }] });
    expect(alwaysOn.why).toContain("always on");
    const two = planMachines(readFlyConfig(flyToml('  auto_stop_machines = "stop"\n  min_machines_running = 2')), ["sin"]);
    expect(two).toMatchObject({ ha: true, regions: [{ region: "fra", machines: 2, alwaysOn: 2 }, { region: "sin", machines: 1, alwaysOn: 0 }] });
  });

  it("an app that has Machines keeps them, plus one in each new extra region", () => {
    const { machines, estimate } = deployEstimate(flyToml(SCALE_TO_ZERO), ["sin", "ams"], undefined, { ams: 1, fra: 2 });
    expect(machines.regions).toEqual([
      { region: "fra", machines: 2, alwaysOn: 0 },
      { region: "ams", machines: 1, alwaysOn: 0 },
      { region: "sin", machines: 1, alwaysOn: 0 },
    ]);
    expect(machines.why).toBe("the app already has Machines: a deploy updates them, and adds one in sin (fly scale count changes how many)");
    expect(estimate.high).toBe(12.76);
  });

  it("a size the price table lacks is not guessed at", () => {
    const { estimate } = deployEstimate(flyToml(SCALE_TO_ZERO).replace("shared-cpu-1x", "a100-40gb"), []);
    expect(estimate).toMatchObject({ low: null, high: null, lines: [], summary: `not estimated: the Fly.io prices of ${FLY_PRICES.date} have no a100-40gb` });
  });

  it("--ha and --no-ha decide outright", () => {
    expect(planMachines(readFlyConfig(flyToml(SCALE_TO_ZERO)), [], true)).toMatchObject({ ha: true, why: "--ha: a spare Machine in fra" });
    expect(planMachines(readFlyConfig(flyToml('  auto_stop_machines = "off"')), [], false)).toMatchObject({ ha: false, why: "--no-ha: one Machine in fra" });
  });
});

describe("the monthly cost estimate", () => {
  it("prices a Machine from its preset plus extra RAM (Fly's example: shared-cpu-1x 512 MB is $3.19)", () => {
    expect(machinePrice("shared-cpu-1x", 512)).toBeCloseTo(3.19, 2);
    expect(machinePrice("shared-cpu-1x", 256)).toBe(1.94);
    expect(machinePrice("performance-1x", 2048)).toBe(31);
    expect(machinePrice("gpu-a100", 1024)).toBeUndefined();
  });

  it("gives a range for Machines that scale to zero, from idle (disk only) to busy all month", () => {
    const { estimate } = deployEstimate(flyToml(SCALE_TO_ZERO), ["sin"]);
    expect(estimate).toMatchObject({ low: 0.3, high: 6.38, prices: { date: FLY_PRICES.date, source: "https://fly.io/docs/about/pricing/" } });
    expect(estimate.summary).toBe(`$0.30–$6.38 a month: 2 × shared-cpu-1x 512 MB (1 in fra, 1 in sin), scale to zero · Fly.io prices of ${FLY_PRICES.date}`);
  });

  it("counts always-on and min_machines_running Machines in full, volumes per Machine, and Postgres", () => {
    const alwaysOn = deployEstimate(flyToml('  auto_stop_machines = "off"'), []).estimate;
    expect([alwaysOn.low, alwaysOn.high]).toEqual([6.38, 6.38]);
    expect(alwaysOn.summary).toMatch(/^\$6\.38 a month: 2 × shared-cpu-1x 512 MB \(2 in fra\), always on/);

    const config = readFlyConfig(flyToml('  auto_stop_machines = "stop"\n  min_machines_running = 1', '[[mounts]]\n  source = "data"\n  destination = "/data"\n  initial_size = "10gb"\n'));
    const machines = planMachines(config, ["sin"]);
    const estimate = estimateCost(config, machines, { postgres: { plan: "Basic", storageGb: 10 } });
    expect(estimate.lines).toEqual([
      { what: "1 × shared-cpu-1x 512 MB always on", low: 3.19, high: 3.19 },
      { what: "1 × shared-cpu-1x 512 MB scaling to zero (idle → busy all month)", low: 0.15, high: 3.19 },
      { what: "2 × 10 GB volume", low: 3, high: 3 },
      { what: "Managed Postgres Basic, 10 GB", low: 40.8, high: 40.8 },
    ]);
    expect([estimate.low, estimate.high]).toEqual([47.14, 50.18]);
    expect(estimate.summary).toContain("1 always on, the rest scale to zero, Postgres, volumes");
  });

  it("shows Upstash Redis's price per command beside the figure, not in it", () => {
    const { estimate } = deployEstimate(flyToml(SCALE_TO_ZERO), ["sin"], undefined, undefined, { redis: true });
    expect(estimate.lines.at(-1)).toEqual({ what: "Upstash Redis, pay as you go: $0.20 per 100K commands (with the traffic, not in the figure)", low: 0, high: 0 });
    expect([estimate.low, estimate.high]).toEqual([0.3, 6.38]);
    expect(estimate.summary).toContain("scale to zero, Redis per command · Fly.io prices");
  });
});

describe("the estimate where users see it", () => {
  let ws: Workspace;
  const app = useFakeApp();
  afterEach(() => ws?.remove());

  it("deploy --dry-run prints the Machines and the cost, and runs no flyctl", async () => {
    ws = await workspace();
    const text = await runCli(ws, ["deploy", "my-api", "--dry-run", "--regions", "fra"], ws.env());
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Machines: +1 in iad, 1 in fra: the app scales to zero/);
    expect(text.stdout).toContain(`Estimated cost:  $0.30–$6.38 a month: 2 × shared-cpu-1x 512 MB (1 in iad, 1 in fra), scale to zero · Fly.io prices of ${FLY_PRICES.date}`);
    const json = await runCli(ws, ["deploy", "my-api", "--dry-run", "--json", "--ha"], ws.env());
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, dryRun: true, app: "my-api", machines: { ha: true, regions: [{ region: "iad", machines: 2 }] }, estimate: { low: 0.3, high: 6.38 } });
    expect(await ws.calls()).toEqual([]);
  });

  it("create --dry-run and --json carry it, from the fly.toml the project gets", async () => {
    const text = await runBuiltCli(["est-api", "--yes", "--dry-run", "--regions", "sin"]);
    expect(text.stdout).toMatch(/estimated cost once deployed: \$0\.30–\$6\.38 a month: 2 × shared-cpu-1x 512 MB \(1 in iad, 1 in sin\), scale to zero · Fly\.io prices of \d{4}-\d{2}-\d{2}/);
    const json = JSON.parse((await runBuiltCli(["est-api", "--yes", "--dry-run", "--json", "--ha"])).stdout);
    expect(json).toMatchObject({ machines: { ha: true }, estimate: { low: 0.3, high: 6.38, prices: { date: FLY_PRICES.date } } });
  });

  it("a deploy with --ha passes --ha=true, and the summary says what Fly made and why", async () => {
    ws = await workspace();
    const result = await runCli(ws, ["deploy", "my-api", "--json", "--ha"], ws.env({}, { ...app.env, GROQ_API_KEY: KEY }));
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await ws.calls()).map((c) => c.argv.join(" "))).toContain("deploy --remote-only --ha=true --app my-api --config fly.toml --yes");
    const doc = JSON.parse(result.stdout);
    expect(doc.machines).toMatchObject({ ha: true, why: "--ha: a spare Machine in iad", running: { iad: 2 } });
    expect(doc.estimate.summary).toContain("2 × shared-cpu-1x 512 MB (2 in iad)");
    // Shown before the app is created: the progress lines on stderr.
    const progress = result.stderr.split("\n");
    const costLine = progress.findIndex((l) => l.startsWith("Estimated cost: $"));
    expect(costLine).toBeGreaterThan(-1);
    expect(costLine).toBeLessThan(progress.findIndex((l) => l.startsWith("Creating app")));
  });
});
