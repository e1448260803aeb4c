import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger/ledger.js";
import { jobEvent } from "../support/fixtures.js";
import { needPostgres } from "../support/need-postgres.js";
import { replicaLedgers, type TestLedger, testLedger } from "../support/test-ledger.js";

// GitHub delivers webhooks side by side, and a runner takes the oldest queued job it fits,
// not the one it was launched for: job A's runner runs B while B's runs A. Each `in_progress`
// locks its job, then the runner it names, then the job that runner was launched for; two
// such deliveries at once lock the same two jobs in opposite orders. One connection
// (PGlite) cannot race, so this runs on the PostgreSQL server, with two replicas' pools.
const SUITE = "crossed steals at intake (test/ledger/ingest-crossed-steals.test.ts)";
const postgres = needPostgres(SUITE);
const postgresUrl = postgres.url;
const PAIRS = 30;
const now = new Date("2026-11-23T12:00:00Z");

describe.skipIf(!postgresUrl)(postgres.title("intake of crossed steals on PostgreSQL"), () => {
  let t: TestLedger;
  const replicas: Ledger[] = [];

  beforeAll(async () => {
    t = await testLedger("postgresql", postgresUrl);
    replicas.push(...(await replicaLedgers(t, postgresUrl, 2)));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await t?.close();
  });

  it("records every in_progress of 30 pairs of jobs that took each other's runners, at once", async () => {
    let delivery = 0;
    const jobIds = Array.from({ length: 2 * PAIRS }, (_, i) => 2001 + i);
    for (const jobId of jobIds)
      await t.ledger.ingest(
        { id: `q${++delivery}`, event: "workflow_job", receivedAt: now },
        jobEvent({ jobId }),
        "x64",
      );
    const intents = await t.ledger.claimLaunches({
      fleet: "x",
      now,
      budget: 2 * PAIRS,
      fleetMax: 2 * PAIRS,
      maxByPool: new Map([["x64", 2 * PAIRS]]),
      maxLaunchesPerJob: 3,
    });
    expect(intents).toHaveLength(2 * PAIRS);
    for (const [i, intent] of intents.entries())
      await t.ledger.recordLaunch(intent.runnerRowId, {
        instanceId: `i-${i}`,
        instanceType: "c7i.large",
        market: "on-demand",
        availabilityZone: "eu-west-1a",
        runnerId: null,
        launchedAt: now,
      });
    const runnerOf = new Map(intents.map((i) => [i.jobId, i.runnerName]));
    await Promise.all(replicas.map((r) => r.ping()));

    // Job 2001 runs on 2002's runner and 2002 on 2001's, and so on, all delivered at once.
    const outcomes = await Promise.allSettled(
      jobIds.map((jobId, i) => {
        const partner = i % 2 === 0 ? jobId + 1 : jobId - 1;
        return (replicas[i % 2] as Ledger).ingest(
          { id: `p${jobId}`, event: "workflow_job", receivedAt: now },
          jobEvent({
            jobId,
            action: "in_progress",
            startedAt: now,
            runnerName: runnerOf.get(partner) ?? null,
          }),
          "x64",
        );
      }),
    );
    const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [String(o.reason)] : []));
    expect(refused).toEqual([]);
    expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : null))).toEqual(
      jobIds.map(() => "recorded"),
    );
    // Each runner now serves the job that took it.
    const rows = await t.query<{ runner_name: string; job_id: number }>(
      "select runner_name, job_id::int from runners order by job_id",
    );
    for (const [i, jobId] of jobIds.entries()) {
      const partner = i % 2 === 0 ? jobId + 1 : jobId - 1;
      expect(rows.find((r) => r.runner_name === runnerOf.get(partner))?.job_id).toBe(jobId);
    }
  });
});
