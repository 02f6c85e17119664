import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    reporters: ["default", "json"],
    outputFile: { json: ".cache/vitest-results.json" },
  },
});
