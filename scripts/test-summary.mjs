// Prints "N passed, N failed" from vitest's JSON report (CI reads this line,
// not vitest's own summary). Exits non-zero when the report is missing.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? ".cache/vitest-results.json";
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch {
  console.log("0 passed, 1 failed");
  console.error(`no test report at ${file}`);
  process.exit(1);
}
const skipped = report.numPendingTests + report.numTodoTests;
// A suite that failed to load has no tests to count: count it as a failure.
const brokenSuites = report.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + brokenSuites} failed, ${skipped} skipped`);
