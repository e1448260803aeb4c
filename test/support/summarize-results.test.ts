import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SCRIPT = resolve("test/support/summarize-results.mjs");

type FileResult = { status: string; assertionResults: { status: string }[] };

/** A vitest JSON report as `--reporter=json` writes it (the fields the summary reads). */
function report(files: FileResult[]) {
  const tests = files.flatMap((f) => f.assertionResults);
  const n = (status: string) => tests.filter((t) => t.status === status).length;
  return {
    numPassedTests: n("passed"),
    numFailedTests: n("failed"),
    numPendingTests: n("skipped"),
    numTodoTests: n("todo"),
    testResults: files,
  };
}

function summarize(reports: Record<string, unknown>, args: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), "mayfly-summary-"));
  mkdirSync(join(dir, "test-results"));
  for (const [name, body] of Object.entries(reports)) {
    writeFileSync(join(dir, "test-results", name), JSON.stringify(body));
  }
  const run = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: dir, encoding: "utf8" });
  return { lines: run.stdout.trim().split("\n"), status: run.status };
}

const passed = (n: number) => Array.from({ length: n }, () => ({ status: "passed" }));

describe("the test command's summary line", () => {
  it("sums every vitest report, the real-VM suite's included", () => {
    const { lines, status } = summarize({
      "vitest.json": report([{ status: "passed", assertionResults: passed(3) }]),
      "vitest-vm.json": report([
        { status: "failed", assertionResults: [...passed(1), { status: "failed" }] },
      ]),
      "bench.json": { not: "a vitest report" },
    });
    expect(lines.at(-1)).toBe("4 passed, 1 failed");
    expect(status).toBe(1);
  });

  it("counts a file that failed outside any test (a missing tool, a failed beforeAll)", () => {
    // vitest reports such a file with no failed test: its tests are absent or skipped.
    const { lines, status } = summarize({
      "vitest.json": report([
        { status: "passed", assertionResults: passed(2) },
        { status: "failed", assertionResults: [] },
        { status: "failed", assertionResults: [{ status: "skipped" }, { status: "skipped" }] },
      ]),
    });
    expect(lines).toEqual([
      "2 test file(s) failed outside any test",
      "2 passed, 2 failed, 2 skipped",
    ]);
    expect(status).toBe(1);
  });

  it("counts failed steps and a vitest run that failed without a report", () => {
    const { lines, status } = summarize(
      { "vitest.json": report([{ status: "passed", assertionResults: passed(5) }]) },
      ["--failed-run=test-results/vitest-vm.json", "lint"],
    );
    expect(lines.at(-2)).toBe("failed: lint; vitest wrote no test-results/vitest-vm.json");
    expect(lines.at(-1)).toBe("5 passed, 2 failed");
    expect(status).toBe(1);
  });

  it("passes when nothing failed", () => {
    const { lines, status } = summarize({
      "vitest.json": report([{ status: "passed", assertionResults: passed(7) }]),
    });
    expect(lines).toEqual(["7 passed, 0 failed"]);
    expect(status).toBe(0);
  });
});
