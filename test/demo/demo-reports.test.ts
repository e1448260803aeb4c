import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli.js";
import { type DemoResult, runDemo } from "../../src/demo/run-demo.js";
import type { JobListing, UsageRow } from "../../src/ledger/report-types.js";
import {
  chromiumFor,
  launchBrowser,
  saveScreenshot,
  type TestBrowser,
} from "../support/browser.js";

const CHARTS = ["jobs-by-state", "queue-latency", "vms-by-pool", "cost-by-repository"];

const withChromium = chromiumFor("the demo reports tests (test/demo/demo-reports.test.ts)");

/** Every report, the API, the metrics and the status page, against one demo run's ledger. */
describe.runIf(withChromium)("reports of a demo run", () => {
  let browser: TestBrowser;
  let result: DemoResult;
  let demo: Promise<number>;
  let release = () => {};
  let live: { charts: Record<string, number>; screenshot: string; consoleErrors: string[] };
  const out: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = (_: DemoResult) => {};
    const done = new Promise<DemoResult>((resolve) => {
      finished = resolve;
    });
    demo = runDemo(
      { out: (t) => out.push(t), progress: () => {} },
      {
        burst: 24,
        trickle: 16,
        // While jobs run: wait for running jobs and some usage, then load the status page.
        onServing: async ({ url, adminToken }) => {
          const auth = { authorization: `Bearer ${adminToken}` };
          const get = async (path: string) =>
            (await fetch(`${url}${path}`, { headers: auth })).json();
          for (let i = 0; i < 300; i++) {
            const { jobs } = (await get("/api/jobs?state=in_progress")) as { jobs: JobListing[] };
            const { total } = (await get("/api/usage?since=1d")) as { total: UsageRow };
            if (jobs.length >= 2 && total.vms >= 1) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          const { page, consoleErrors } = await browser.openPage(`${url}/`, { headers: auth });
          const charts: Record<string, number> = {};
          for (const chart of CHARTS)
            charts[chart] = await page.locator(`svg[data-chart="${chart}"] [data-value]`).count();
          live = {
            charts,
            screenshot: await saveScreenshot(page, "status-page-demo"),
            consoleErrors,
          };
        },
        // The controller keeps serving until the tests below are done.
        onFinished: (r) => {
          finished(r);
          return held;
        },
      },
    );
    result = await Promise.race([
      done,
      demo.then((code) => {
        throw new Error(`the demo ended before its jobs did (exit ${code}): ${out.join("\n")}`);
      }),
    ]);
  }, 180_000);
  afterAll(async () => {
    release();
    await demo;
    await browser?.close();
  });

  const api = async (path: string, token = result.adminToken) => {
    const res = await fetch(`${result.url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, text: await res.text() };
  };

  it("runs the demo to the end: every job served or cancelled, no VM left", () => {
    expect(result.figures.unserved).toBe(0);
    expect(result.figures.vmsLeft).toBe(0);
  });

  it("draws every chart of the status page while jobs run", ({ annotate }) => {
    void annotate(`screenshot: ${live.screenshot}`, {
      path: live.screenshot,
      contentType: "image/png",
    });
    for (const chart of CHARTS) expect(live.charts[chart], chart).toBeGreaterThan(0);
    expect(live.consoleErrors).toEqual([]);
  });

  it("adds usage up: the per-job rows sum to every grouping's total, and billed seconds cover job seconds", async () => {
    const since = new Date(Date.now() - 86_400_000);
    const byJob = await result.ledger.usageReport({ since, by: ["job"] });
    const sum = (rows: UsageRow[], pick: (r: UsageRow) => number) =>
      Math.round(rows.reduce((a, r) => a + pick(r), 0) * 10_000) / 10_000;
    const served = result.figures.served;
    expect(byJob.filter((r) => r.key.job !== "")).toHaveLength(served);
    for (const row of byJob) {
      expect(row.instanceSeconds).toBeGreaterThanOrEqual(row.jobSeconds);
      expect(row.wasteSeconds).toBeCloseTo(row.instanceSeconds - row.jobSeconds, 6);
      expect(row.unpricedVms).toBe(0);
    }
    for (const by of [
      ["repo"],
      ["org"],
      ["workflow"],
      ["pool"],
      ["type", "zone"],
      ["day"],
      ["month"],
      [],
    ] as const) {
      const rows = await result.ledger.usageReport({ since, by });
      expect(
        sum(rows, (r) => r.estimatedCostUsd),
        by.join(),
      ).toBeCloseTo(
        sum(byJob, (r) => r.estimatedCostUsd),
        4,
      );
      expect(
        sum(rows, (r) => r.hostedEquivalentUsd),
        by.join(),
      ).toBeCloseTo(
        sum(byJob, (r) => r.hostedEquivalentUsd),
        4,
      );
      expect(sum(rows, (r) => r.vms)).toBe(result.figures.vmsLaunched);
      expect(sum(rows, (r) => r.jobs)).toBe(served);
    }
    const total = await result.ledger.usageReport({ since, by: [] });
    expect(total[0]?.hostedEquivalentUsd).toBeGreaterThan(0);
    expect(total[0]?.estimatedCostUsd).toBeGreaterThan(0);
  });

  it("serves the same reports over the API, as JSON and CSV, and 401 without the token", async () => {
    const json = await api("/api/usage?since=1d&by=repo");
    expect(json.status).toBe(200);
    const doc = JSON.parse(json.text) as { rows: UsageRow[]; total: Omit<UsageRow, "key"> };
    expect(doc.rows.map((r) => r.key.repo).sort()).toEqual([
      "example-org/api",
      "example-org/infra",
      "example-org/web",
    ]);
    expect(doc.total.vms).toBe(result.figures.vmsLaunched);
    const csv = await api("/api/usage?since=1d&by=repo&format=csv");
    const lines = csv.text.split("\r\n");
    expect(lines[0]).toMatch(
      /^repo,vms,jobs,instance_seconds,job_seconds,waste_seconds,estimated_cost_usd,hosted_equivalent_usd/,
    );
    expect(lines).toHaveLength(1 + doc.rows.length);
    for (const path of ["/api/usage", "/api/jobs", "/", "/metrics"]) {
      const refused = await api(path, "not-the-token");
      expect(refused.status, path).toBe(401);
      expect(refused.text).not.toContain("example-org");
    }
  });

  it("lists the jobs with their VM and wait, filtered", async () => {
    const { jobs } = JSON.parse(
      (await api("/api/jobs?state=completed&repo=example-org/web&limit=1000")).text,
    ) as {
      jobs: JobListing[];
    };
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      expect(job.repository).toBe("example-org/web");
      expect(job.state).toBe("completed");
      if (job.conclusion === "success") {
        expect(job.vm?.instanceId).toMatch(/^i-/);
        expect(job.queueSeconds).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it("counts launches, API calls, repairs and queue latency in /metrics", async () => {
    const { status, text } = await api("/metrics");
    expect(status).toBe(200);
    const value = (pattern: RegExp) =>
      [...text.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(value(/^mayfly_launches_total\{[^}]*\} (\d+)$/gm)).toBe(result.figures.vmsLaunched);
    expect(value(/^mayfly_queue_latency_seconds_count (\d+)$/gm)).toBe(result.figures.served);
    expect(value(/^mayfly_api_calls_total\{service="github"\} (\d+)$/gm)).toBeGreaterThan(0);
    expect(text).toMatch(/^mayfly_rate_budget_remaining\{service="ec2"\} \d+/m);
    expect(text).toMatch(/^mayfly_subnets\{state="free"\} \d+/m);
    // The demo loses two webhooks; the reconciler recovers them from the delivery log.
    expect(value(/^mayfly_reconcile_repairs_total\{kind="recovered"\} (\d+)$/gm)).toBe(2);
  });

  it("prints the same usage with mayfly usage --url and the jobs with mayfly jobs --url", async () => {
    const env = { MAYFLY_ADMIN_TOKEN: result.adminToken };
    const cli = async (args: string[]) => {
      const lines: string[] = [];
      const errors: string[] = [];
      const exit = await run(args, env, { out: (t) => lines.push(t), err: (t) => errors.push(t) });
      return { exit, text: lines.join("\n"), errors: errors.join("\n") };
    };
    const table = await cli(["usage", "--url", result.url, "--since", "1d", "--by", "repo"]);
    expect(table.exit, table.errors).toBe(0);
    expect(table.text).toMatch(
      /^repo\s+vms\s+jobs\s+vm_hours\s+job_hours\s+waste_%\s+ec2_usd\s+github_hosted_usd/m,
    );
    expect(table.text).toMatch(
      new RegExp(`^total\\s+${result.figures.vmsLaunched}\\s+${result.figures.served}\\s`, "m"),
    );
    const csv = await cli([
      "usage",
      "--url",
      result.url,
      "--since",
      "1d",
      "--by",
      "pool,day",
      "--csv",
    ]);
    expect(csv.text.split("\r\n")[0]).toMatch(/^pool,day,vms,jobs/);
    const jobs = await cli(["jobs", "--url", result.url, "--state", "completed", "--limit", "5"]);
    expect(jobs.exit, jobs.errors).toBe(0);
    expect(jobs.text.split("\n")).toHaveLength(6);
    const refused = await run(
      ["usage", "--url", result.url],
      { MAYFLY_ADMIN_TOKEN: "wrong" },
      {
        out: () => {},
        err: () => {},
      },
    );
    expect(refused).toBe(77);
    const bad = await cli(["usage", "--url", result.url, "--by", "colour"]);
    expect(bad.exit).toBe(64);
    expect(bad.errors).toContain('by: unknown dimension "colour"');
  });
});
