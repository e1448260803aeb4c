import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { pruneRetained } from "../../src/fleet/prune-retained.js";
import { scheduleTask } from "../../src/fleet/scheduled-task.js";
import { jobEvent, memoryLogger } from "../support/fixtures.js";
import { handSchedule } from "../support/hand-schedule.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

describe("retention", () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await testLedger("pglite", "");
  });
  afterAll(() => t.close());
  beforeEach(() => t.truncate());

  const day = 86400_000;
  const now = new Date("2026-11-23T12:00:00Z");
  const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * day);
  const retention = { deliveries: 3 * 86400, jobs: 30 * 86400, usage: 365 * 86400 };
  const count = async (table: string) =>
    ((await t.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0] as { n: number })
      .n;

  it("forgets delivery IDs after a few days and keeps their jobs", async () => {
    for (const [id, daysAgo] of [
      ["d-5", 5],
      ["d-3.5", 3.5],
      ["d-1", 1],
    ] as const) {
      await t.ledger.ingest(
        { id, event: "workflow_job", receivedAt: at(daysAgo) },
        jobEvent({ jobId: daysAgo * 10, createdAt: at(daysAgo) }),
        "p",
      );
    }
    expect(await pruneRetained(t.ledger, retention, now)).toEqual({
      deliveries: 2,
      jobs: 0,
      runners: 0,
      usage: 0,
    });
    expect(await t.query("select id from deliveries")).toEqual([{ id: "d-1" }]);
    expect(await count("jobs")).toBe(3);
    expect(await pruneRetained(t.ledger, retention, now)).toMatchObject({ deliveries: 0 });
  });

  it("forgets skipped deliveries after the delivery retention, as it does received ones", async () => {
    await t.ledger.skipDelivery("s-4", "PAYLOAD_INVALID", at(4));
    await t.ledger.skipDelivery("s-2", "PAYLOAD_INVALID", at(2));
    expect(await pruneRetained(t.ledger, retention, now)).toMatchObject({ deliveries: 1 });
    expect(await t.query("select id from skipped_deliveries")).toEqual([{ id: "s-2" }]);
  });

  it("deletes completed jobs and their terminated VMs after the job retention, keeps usage longer, and never touches live jobs", async () => {
    const events = [
      // [job, action, days ago]: an old completed job, an old job still queued, a recent completed one.
      [1, "queued", 40],
      [1, "completed", 40],
      [2, "queued", 40],
      [3, "queued", 2],
      [3, "completed", 2],
    ] as const;
    for (const [n, [jobId, action, daysAgo]] of events.entries())
      await t.ledger.ingest(
        { id: `d${n}`, event: "workflow_job", receivedAt: at(daysAgo) },
        jobEvent({
          jobId,
          action,
          createdAt: at(daysAgo),
          completedAt: action === "completed" ? at(daysAgo) : null,
        }),
        "p",
      );
    await t.query(
      `insert into runners (job_id, pool, runner_name, launch_token, state, terminated_at)
       values (1, 'p', 'r-1', 't-1', 'terminated', $1), (3, 'p', 'r-3', 't-3', 'terminated', $2)`,
      [at(40), at(2)],
    );
    await t.query(
      `insert into usage (runner_id, job_id, day, org, repository, pool, instance_seconds)
       values (1, 1, $1, 'o', 'o/r', 'p', 60), (2, null, $2, 'o', 'o/r', 'p', 60)`,
      [at(40).toISOString().slice(0, 10), at(400).toISOString().slice(0, 10)],
    );
    expect(await pruneRetained(t.ledger, retention, now)).toEqual({
      deliveries: 3,
      jobs: 1,
      runners: 1,
      usage: 1,
    });
    expect(await t.query("select id::int from jobs order by id")).toEqual([{ id: 2 }, { id: 3 }]);
    expect(await t.query("select runner_name from runners")).toEqual([{ runner_name: "r-3" }]);
    expect(await t.query("select runner_id::int from usage")).toEqual([{ runner_id: 1 }]);
  });
});

describe("scheduled task", () => {
  it("runs when its schedule says, logs its name and result, survives a failure, and stops", async () => {
    const { logger, lines } = memoryLogger();
    const hand = handSchedule();
    let runs = 0;
    let release: () => void = () => {};
    const task = scheduleTask(
      "by-hand",
      hand.schedule,
      async () => {
        runs++;
        if (runs === 1) throw new Error("first run fails");
        if (runs === 2) await new Promise<void>((done) => (release = done));
        return { runs };
      },
      logger,
    );
    expect(runs).toBe(0);
    await hand.tick();
    expect(lines()).toContain('"loop":"by-hand"');
    expect(lines()).toContain('"msg":"task failed"');
    // A tick while a run is in progress joins it: never two runs at once.
    const second = hand.tick();
    const third = hand.tick();
    expect(runs).toBe(2);
    release();
    await Promise.all([second, third]);
    expect(runs).toBe(2);
    expect(lines()).toContain('"msg":"task done"');
    await task.stop();
    await hand.tick();
    expect(runs).toBe(2);
  });

  it("runs on a cron expression until stopped, and once at start when asked", async () => {
    let runs = 0;
    const task = scheduleTask(
      "every-second",
      "* * * * * *",
      async () => ({ runs: ++runs }),
      memoryLogger().logger,
      {
        runAtStart: true,
      },
    );
    expect(runs).toBe(1);
    await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(2), {
      timeout: 10_000,
      interval: 50,
    });
    await task.stop();
    const seen = runs;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(runs).toBe(seen);
  });
});
