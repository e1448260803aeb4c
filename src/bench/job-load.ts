import type { SimWorld } from "../sim/world/start-sim-world.js";
import { BENCH_LABELS } from "./bench-world.js";

/**
 * Queues `count` jobs at `perSecond` (all at once when Infinity), each running `durationMs`
 * once a runner takes it. Each job is its own workflow run and carries the run's binding
 * label (`mayfly-run-<run id>`, as DESIGN.md recommends), so no runner serves another's job.
 * Resolves to their IDs once every `queued` webhook is sent.
 */
export async function queueJobs(
  world: SimWorld,
  count: number,
  perSecond: number,
  durationMs: number,
): Promise<number[]> {
  const started = performance.now();
  const sent: Promise<number>[] = [];
  const firstRun = Date.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (Number.isFinite(wait) && wait > 1) await new Promise((r) => setTimeout(r, wait));
    sent.push(
      world.queueJob({
        repository: "example-org/app",
        labels: [...BENCH_LABELS, `mayfly-run-${firstRun + i}`],
        runId: firstRun + i,
        durationMs,
        name: `bench-${i}`,
      }),
    );
  }
  return Promise.all(sent);
}

/**
 * Resolves true once every job is completed and no VM is up; false when no job has
 * completed for `stallMs` (a slow controller is waited for, a stuck one is not).
 */
export async function allDone(world: SimWorld, stallMs: number): Promise<boolean> {
  let deadline = Date.now() + stallMs;
  let completed = 0;
  for (;;) {
    const jobs = world.jobs();
    const done = jobs.filter((j) => j.status === "completed").length;
    const up = world.ec2.instances().some((i) => world.ec2.statusOf(i.instanceId) !== "terminated");
    if (done === jobs.length && !up) return true;
    if (done > completed) {
      completed = done;
      deadline = Date.now() + stallMs;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}
