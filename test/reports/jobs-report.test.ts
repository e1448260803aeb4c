import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobsReportText } from "../../src/reports/report-command.js";
import { apiSource, ledgerSource } from "../../src/reports/report-source.js";
import { jobEvent } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

const now = new Date("2026-11-23T12:00:00Z");
const limits = { pools: ["linux"], caps: { byPool: new Map([["linux", 1]]) } };

describe("mayfly jobs with a per-repository cap", () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await testLedger("pglite", "");
    for (const jobId of [1, 2])
      await t.ledger.ingest(
        { id: `r${jobId}`, event: "workflow_job", receivedAt: now },
        jobEvent({ jobId, repository: "acme/api", createdAt: new Date(now.getTime() - jobId) }),
        "linux",
      );
    await t.ledger.claimLaunches({
      fleet: "test",
      now,
      budget: 10,
      fleetMax: 10,
      maxByPool: new Map([["linux", 10]]),
      repositoryCaps: limits.caps,
      maxLaunchesPerJob: 3,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("marks the job its repository's cap holds back, reading the ledger with the fleet file", async () => {
    const source = ledgerSource(t.ledger, () => now, limits);
    const text = await jobsReportText(source, {}, "table", now);
    const held = text.split("\n").filter((l) => l.includes("held:"));
    expect(held).toHaveLength(1);
    expect(held[0]).toContain("queued (held: acme/api at 1/1 runners, maxRunnersPerRepository)");
    expect(text).toContain("maxRunnersPerRepository: linux 1 (acme/api 1/1, 1 held)");
    const json = JSON.parse(await jobsReportText(source, {}, "json", now));
    expect(json.repositoryLimits).toEqual([
      { pool: "linux", limit: 1, repositories: [{ repository: "acme/api", runners: 1, held: 1 }] },
    ]);
  });

  it("says nothing of caps without the fleet file", async () => {
    const text = await jobsReportText(
      ledgerSource(t.ledger, () => now),
      {},
      "table",
      now,
    );
    expect(text).not.toContain("maxRunnersPerRepository");
  });

  it("reads the caps a controller reports over its API", async () => {
    const body = {
      jobs: [],
      repositoryLimits: [{ pool: "linux", limit: 2, repositories: [] }],
    };
    const fetcher = (async () => new Response(JSON.stringify(body))) as typeof fetch;
    const report = await apiSource("http://127.0.0.1:1", "t", fetcher).jobs({});
    expect(report).toEqual(body);
  });
});
