// Sums vitest's JSON reports (test-results/vitest*.json) into the test command's last line,
// "N passed, N failed[, N skipped]" (test/run-all.sh). A file that fails outside any test (a
// missing tool, an import error, a failed beforeAll) reports no failed test, so it counts as
// one failure here; so does each failed step (typecheck, lint, ...) and each vitest run that
// exited non-zero without reporting a failure (no report, or an unhandled error).
// Usage: node test/support/summarize-results.mjs [--failed-run=REPORT.json ...] [failed-step ...]
import { existsSync, readdirSync, readFileSync } from "node:fs";

const DIR = "test-results";
const args = process.argv.slice(2);
const failedRuns = args.filter((a) => a.startsWith("--failed-run=")).map((a) => a.slice(13));
const failedSteps = args.filter((a) => !a.startsWith("--failed-run="));

/** A report's counts, failed files included. */
function count(report) {
  let failedFiles = 0;
  for (const file of report.testResults ?? []) {
    const failedTests = file.assertionResults.filter((t) => t.status === "failed").length;
    if (file.status === "failed" && failedTests === 0) failedFiles += 1;
  }
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    failedFiles,
    skipped: report.numPendingTests + (report.numTodoTests ?? 0),
  };
}

const total = { passed: 0, failed: 0, failedFiles: 0, skipped: 0 };
const reports = existsSync(DIR) ? readdirSync(DIR).filter((f) => /^vitest.*\.json$/.test(f)) : [];
for (const name of reports) {
  const counts = count(JSON.parse(readFileSync(`${DIR}/${name}`, "utf8")));
  for (const key of Object.keys(total)) total[key] += counts[key];
}
for (const path of failedRuns) {
  const counts = existsSync(path) ? count(JSON.parse(readFileSync(path, "utf8"))) : undefined;
  if (!counts) failedSteps.push(`vitest wrote no ${path}`);
  else if (counts.failed + counts.failedFiles === 0)
    failedSteps.push(`vitest exited non-zero for ${path} with no failed test (see its output)`);
}
if (reports.length === 0 && failedRuns.length === 0) failedSteps.push("no vitest report");
if (total.failedFiles > 0) console.log(`${total.failedFiles} test file(s) failed outside any test`);
if (failedSteps.length > 0) console.log(`failed: ${failedSteps.join("; ")}`);
const failed = total.failed + total.failedFiles + failedSteps.length;
const skipped = total.skipped ? `, ${total.skipped} skipped` : "";
console.log(`${total.passed} passed, ${failed} failed${skipped}`);
process.exitCode = failed > 0 ? 1 : 0;
