import fs from "fs-extra";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { mergeContributions } from "../../src/features/contributions.js";
import { FEATURES } from "../../src/features/index.js";
import { INFERENCE_KEY_ENV, PROVIDERS } from "../../src/providers.js";
import { REPO_ROOT } from "../support/tools.js";

describe("docs/security.md", () => {
  it("its table of secrets names every secret a feature or a provider declares", async () => {
    const doc = await fs.readFile(path.join(REPO_ROOT, "docs/security.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Secrets\n"), doc.indexOf("\n## ", doc.indexOf("## Secrets\n") + 1));
    const rows = section.split("\n").filter((line) => line.startsWith("| `") || line.startsWith("| the provider"));
    const merged = mergeContributions(FEATURES);
    const declared = [
      ...Object.entries(merged.settings).filter(([, setting]) => setting.secret).map(([name]) => name.toUpperCase()),
      ...Object.keys(merged.secrets),
      ...Object.values(merged.provisioning).flatMap((step) => (step.service ? [step.service.secret] : [])),
    ];
    expect(declared).toEqual(expect.arrayContaining(["API_KEYS", "DATABASE_URL", "REDIS_URL"]));
    for (const name of new Set(declared)) expect(rows.join("\n"), name).toContain(`\`${name}\``);
    // The provider's key: one row names the presets' variables.
    const providerRow = rows.find((row) => row.startsWith("| the provider")) ?? "";
    expect(providerRow).toContain(`\`${INFERENCE_KEY_ENV}\``);
    expect(PROVIDERS.some((p) => p.apiKeyEnv && providerRow.includes(`\`${p.apiKeyEnv}\``))).toBe(true);
  });
});
