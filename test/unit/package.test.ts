import { execa } from "execa";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("the published package", () => {
  it("ships the MIT LICENSE that package.json names", async () => {
    const manifest = JSON.parse(readFileSync("package.json", "utf8")) as { license: string };
    expect(manifest.license).toBe("MIT");
    expect(readFileSync("LICENSE", "utf8").split("\n")[0]).toBe("MIT License");
    const pack = await execa("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"]);
    const [tarball] = JSON.parse(pack.stdout) as { files: { path: string }[] }[];
    expect(tarball!.files.map((f) => f.path)).toContain("LICENSE");
  });
});
