import { describe, expect, it } from "vitest";
import {
  type BenchFigures,
  benchJson,
  benchTable,
  FIGURE_KEYS,
  missedCounts,
  TARGETS,
  verdictOf,
} from "../../src/bench/bench-report.js";
import { limitMaxPerSecond } from "../../src/bench/scenarios/burst.js";
import { percentile } from "../../src/bench/stats.js";

const figures: BenchFigures = {
  overhead_p99_ms: 3.2,
  github_calls_per_job: 1.2,
  ec2_mutating_calls_per_launch: 1.05,
  terminate_calls_per_job: 0.08,
  describe_pages_per_1000_vms: 1,
  limit_utilisation: 0.93,
  throttle_errors: 0,
  jobs_lost: 0,
  start_over_boot_p50_ms: 400,
  reap_p99_ms: 2500,
  cancel_reap_p99_ms: 1200,
  rss_mb_postgres: null,
  rss_mb_pglite: 900,
  intake_per_s_pglite: 360,
  intake_per_s_postgres: null,
  vms_per_job: 1,
  assign_p99_ms: 40,
  queued_to_launch_p99_ms: 90,
};

describe("the bench report", () => {
  it("prints one JSON object with exactly the documented keys, in order", () => {
    const parsed = JSON.parse(benchJson(figures)) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      "overhead_p99_ms",
      "github_calls_per_job",
      "ec2_mutating_calls_per_launch",
      "terminate_calls_per_job",
      "describe_pages_per_1000_vms",
      "limit_utilisation",
      "throttle_errors",
      "jobs_lost",
      "start_over_boot_p50_ms",
      "reap_p99_ms",
      "cancel_reap_p99_ms",
      "rss_mb_postgres",
      "rss_mb_pglite",
      "intake_per_s_pglite",
      "intake_per_s_postgres",
      "vms_per_job",
      "assign_p99_ms",
      "queued_to_launch_p99_ms",
    ]);
    expect(parsed.rss_mb_postgres).toBeNull();
    expect(benchJson(figures)).not.toContain("\n");
  });

  it("leaves out anything that is not a documented key", () => {
    const extra = { ...figures, secret_figure: 1 } as BenchFigures;
    expect(Object.keys(JSON.parse(benchJson(extra)))).toEqual([...FIGURE_KEYS]);
  });

  it("says which targets are met and which are missed", () => {
    expect(verdictOf("overhead_p99_ms", 3.2)).toBe("met");
    expect(verdictOf("overhead_p99_ms", 5)).toBe("MISSED");
    expect(verdictOf("github_calls_per_job", 1.05)).toBe("met");
    expect(verdictOf("limit_utilisation", 0.89)).toBe("MISSED");
    expect(verdictOf("throttle_errors", 1)).toBe("MISSED");
    expect(verdictOf("rss_mb_postgres", null)).toBe("n/a");
    expect(verdictOf("rss_mb_pglite", 900)).toBe("n/a");
  });

  it("shows every figure in the table with its target, verdict and a count", () => {
    const table = benchTable(figures, ["mode: quick"]);
    const row = (key: string) => table.split("\n").find((l) => l.startsWith(`${key} `));
    expect(row("github_calls_per_job")).toMatch(/1\.2\s+<= 1\.05\s+MISSED$/);
    expect(row("overhead_p99_ms")).toMatch(/3\.2\s+< 5\s+met$/);
    expect(row("rss_mb_postgres")).toMatch(/null\s+< 200\s+n\/a$/);
    expect(row("intake_per_s_pglite")).toMatch(/360\s+-\s+n\/a$/);
    expect(table).toContain("targets met: 10, missed: 2");
    expect(table).toContain("- mode: quick");
  });
});

describe("the bench's gate (--check)", () => {
  it("passes when every count meets its target, whatever the timings", () => {
    // reap_p99_ms misses its target above: timings are advisory, never a gate.
    expect(verdictOf("reap_p99_ms", figures.reap_p99_ms)).toBe("MISSED");
    expect(missedCounts({ ...figures, github_calls_per_job: 1.02 })).toEqual([]);
  });

  it("names each count that misses, and a count that was not measured", () => {
    expect(
      missedCounts({ ...figures, jobs_lost: 1, vms_per_job: 1.01, throttle_errors: null }),
    ).toEqual([
      "github_calls_per_job 1.2 (target <= 1.05)",
      "throttle_errors not measured (target = 0)",
      "jobs_lost 1 (target = 0)",
      "vms_per_job 1.01 (target <= 1)",
    ]);
  });

  it("gates exactly the counts: calls, pages, VMs and jobs per job, throttle answers, lost jobs", () => {
    const gated = FIGURE_KEYS.filter((k) => TARGETS[k]?.count === true);
    expect(gated).toEqual([
      "github_calls_per_job",
      "ec2_mutating_calls_per_launch",
      "terminate_calls_per_job",
      "describe_pages_per_1000_vms",
      "throttle_errors",
      "jobs_lost",
      "vms_per_job",
    ]);
  });
});

describe("the bench's arithmetic", () => {
  it("takes percentiles by nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile([], 0.5)).toBeNull();
  });

  it("bounds a burst by GitHub's windows or EC2's bucket, whichever is slower", () => {
    // 2000 JIT registrations at 180 per 6 s window: 11 windows wait; EC2 needs (2000-1000)/20 s.
    expect(limitMaxPerSecond(2000, 180, 6, 1000, 20)).toBeCloseTo(2000 / 66);
    expect(limitMaxPerSecond(2000, 1000, 6, 1000, 2)).toBeCloseTo(2000 / 500);
    expect(limitMaxPerSecond(100, 180, 6, 1000, 20)).toBe(20);
  });
});
