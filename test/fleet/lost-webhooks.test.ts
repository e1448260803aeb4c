import { afterEach, describe, expect, it } from "vitest";
import { type ControllerInWorld, controllerInWorld } from "../support/controller-in-world.js";

const JOBS = 1000;
// GitHub's limits scaled up tenfold, so the run measures mayfly rather than GitHub's
// ceiling of about 180 JIT registrations a minute (FIELD-NOTES.md).
const LIMITS = { primaryLimit: 50_000, secondaryPoints: 9000 };

describe("nothing lost", () => {
  let c: ControllerInWorld | undefined;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });

  it("serves every job when 20% of the queued webhooks are lost", async () => {
    c = await controllerInWorld({
      reconcileSchedule: "*/2 * * * * *",
      github: { rateLimits: LIMITS },
    });
    const dropped: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      // Every fifth queued delivery never reaches the controller.
      if (i % 5 === 0) c.world.faults({ drop: 1 });
      const id = await c.queue(50);
      if (i % 5 === 0) dropped.push(id);
    }
    // 1000 jobs take about two minutes on 2 idle cores; the deadline leaves room for a loaded machine.
    await c.allCompleted(480_000);
    const jobs = c.world.jobs();
    expect(jobs).toHaveLength(JOBS);
    expect(jobs.filter((j) => j.conclusion !== "success")).toEqual([]);
    // Every lost delivery reaches the ledger through the reconciler, from the delivery log.
    const ledger = c.running.ledger;
    const unrecorded = async () => {
      const states = await Promise.all(jobs.map((j) => ledger.getJob(j.id)));
      return jobs.filter((_, i) => states[i]?.state !== "completed").map((j) => j.id);
    };
    const deadline = Date.now() + 60_000;
    while ((await unrecorded()).length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await unrecorded()).toEqual([]);
    expect(c.log.lines()).toMatch(/"loop":"reconciler".*"recovered":[1-9]/);
    const wait = (id: number) => {
      const job = jobs.find((j) => j.id === id);
      return (job?.startedAt?.getTime() ?? 0) - (job?.createdAt.getTime() ?? 0);
    };
    const waits = dropped.map(wait).sort((a, b) => a - b);
    console.info(
      `jobs queued while a drop was armed: ${dropped.length}; queued -> started p50 ${waits[Math.floor(waits.length / 2)]} ms, max ${waits.at(-1)} ms (reconcile every 2 s)`,
    );
  }, 600_000);
});
