import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneDeliveries } from "../../src/fleet/prune-deliveries.js";
import { scheduleTask } from "../../src/fleet/scheduled-task.js";
import { jobEvent, memoryLogger } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

describe("delivery retention", () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await testLedger("pglite", "");
  });
  afterAll(() => t.close());

  it("forgets delivery IDs older than the retention and keeps the jobs", async () => {
    const day = 86400_000;
    const now = new Date("2026-11-23T12:00:00Z");
    const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * day);
    for (const [id, daysAgo] of [
      ["d-5", 5],
      ["d-3.5", 3.5],
      ["d-1", 1],
    ] as const) {
      await t.ledger.ingest(
        { id, event: "workflow_job", receivedAt: at(daysAgo) },
        jobEvent({ jobId: daysAgo * 10 }),
        "p",
      );
    }
    expect(await pruneDeliveries(t.ledger, 3 * 86400, now)).toEqual({ pruned: 2 });
    expect(await t.query("select id from deliveries")).toEqual([{ id: "d-1" }]);
    expect(await t.query("select count(*)::int as n from jobs")).toEqual([{ n: 3 }]);
    expect(await pruneDeliveries(t.ledger, 3 * 86400, now)).toEqual({ pruned: 0 });
  });
});

describe("scheduled task", () => {
  it("runs on schedule, logs its name and result, survives a failure, and stops", async () => {
    const { logger, lines } = memoryLogger();
    let runs = 0;
    const task = scheduleTask(
      "every-second",
      "* * * * * *",
      async () => {
        runs++;
        if (runs === 1) throw new Error("first run fails");
        return { runs };
      },
      logger,
    );
    await new Promise((resolve) => setTimeout(resolve, 2600));
    await task.stop();
    const seen = runs;
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(lines()).toContain('"loop":"every-second"');
    expect(lines()).toContain('"msg":"task failed"');
    expect(lines()).toContain('"msg":"task done"');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(runs).toBe(seen);
  });
});
