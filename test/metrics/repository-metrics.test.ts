import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prometheusMetrics } from "../../src/metrics/prometheus-metrics.js";
import { jobEvent } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

const now = new Date("2026-11-23T12:00:00Z");

describe("per-repository metrics", () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await testLedger("pglite", "");
    // acme/api: 6 queued in pool linux; acme/web: 1; cap 2 per repository in linux.
    const jobs = [
      ...Array.from({ length: 6 }, (_, i) => ({ id: i + 1, repository: "acme/api" })),
      { id: 7, repository: "acme/web" },
    ];
    for (const job of jobs)
      await t.ledger.ingest(
        { id: `m${job.id}`, event: "workflow_job", receivedAt: now },
        jobEvent({
          jobId: job.id,
          repository: job.repository,
          createdAt: new Date(now.getTime() - (60 - job.id) * 1000),
        }),
        "linux",
      );
    await t.ledger.claimLaunches({
      fleet: "test",
      now,
      budget: 10,
      fleetMax: 10,
      maxByPool: new Map([
        ["linux", 10],
        ["arm", 10],
      ]),
      repositoryCaps: { byPool: new Map([["linux", 2]]) },
      maxLaunchesPerJob: 3,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("count each repository's VMs, the pools' caps and the jobs the cap holds back", async () => {
    const { registry } = prometheusMetrics(t.ledger, {
      pools: ["linux", "arm"],
      caps: { byPool: new Map([["linux", 2]]) },
    });
    const text = await registry.metrics();
    expect(text).toContain('mayfly_repository_runners{pool="linux",repository="acme/api"} 2');
    expect(text).toContain('mayfly_repository_runners{pool="linux",repository="acme/web"} 1');
    expect(text).toContain('mayfly_repository_runner_limit{pool="linux"} 2');
    // A pool without a cap has no limit series and holds nothing back.
    expect(text).not.toContain('mayfly_repository_runner_limit{pool="arm"}');
    expect(text).toContain('mayfly_jobs_held{pool="linux",reason="repository-limit"} 4');
  });

  it("show no limit and hold nothing back when the fleet file sets no cap", async () => {
    const { registry } = prometheusMetrics(t.ledger);
    const text = await registry.metrics();
    expect(text).toContain('mayfly_repository_runners{pool="linux",repository="acme/api"} 2');
    expect(text).not.toMatch(/^mayfly_repository_runner_limit\{/m);
    expect(text).not.toMatch(/^mayfly_jobs_held\{/m);
  });
});
