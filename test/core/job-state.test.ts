import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Job, JobAction, JobEvent } from "../../src/core/job.js";
import { applyEvent } from "../../src/core/job-state.js";
import { jobEvent } from "../support/fixtures.js";

const T0 = new Date("2026-11-23T10:00:00Z");
const T1 = new Date("2026-11-23T10:00:40Z");
const T2 = new Date("2026-11-23T10:07:00Z");

/** The events GitHub sends over one job's life, with the values it would send. */
function story(ran: boolean): Record<JobAction, JobEvent> {
  return {
    queued: jobEvent({ action: "queued", createdAt: T0, startedAt: T0 }),
    waiting: jobEvent({ action: "waiting", createdAt: T0, startedAt: T0 }),
    in_progress: jobEvent({
      action: "in_progress",
      startedAt: T1,
      runnerId: 9,
      runnerName: "mayfly-1001-1",
    }),
    completed: ran
      ? jobEvent({
          action: "completed",
          startedAt: T1,
          completedAt: T2,
          conclusion: "success",
          runnerId: 9,
          runnerName: "mayfly-1001-1",
        })
      : jobEvent({ action: "completed", startedAt: T0, completedAt: T2, conclusion: "cancelled" }),
  };
}

function fold(events: readonly JobEvent[]): Job {
  let job: Job | undefined;
  for (const event of events) job = applyEvent(job, event, "linux-4cpu").job;
  if (!job) throw new Error("no events");
  return job;
}

describe("job state machine", () => {
  it("records a queued job with its metadata and pool", () => {
    const { job, changed } = applyEvent(undefined, story(true).queued, "linux-4cpu");
    expect(changed).toBe(true);
    expect(job).toMatchObject({
      id: 1001,
      state: "queued",
      pool: "linux-4cpu",
      queuedAt: T0,
      startedAt: null,
      runnerName: null,
    });
  });

  it("records the runner that took the job from in_progress", () => {
    const s = story(true);
    const job = fold([s.queued, s.in_progress]);
    expect(job).toMatchObject({
      state: "in_progress",
      runnerId: 9,
      runnerName: "mayfly-1001-1",
      startedAt: T1,
    });
  });

  it("never reopens a completed job when a late queued arrives", () => {
    const s = story(true);
    const done = fold([s.queued, s.in_progress, s.completed]);
    const { job, changed } = applyEvent(done, s.queued, "linux-4cpu");
    expect(changed).toBe(false);
    expect(job.state).toBe("completed");
    expect(job.conclusion).toBe("success");
  });

  it("lets waiting and queued alternate before a runner takes the job", () => {
    const s = story(true);
    expect(fold([s.queued, s.waiting]).state).toBe("waiting");
    expect(fold([s.queued, s.waiting, s.queued]).state).toBe("queued");
    expect(fold([s.in_progress, s.waiting]).state).toBe("in_progress");
  });

  it("treats a repeated event as no change", () => {
    const s = story(true);
    const job = fold([s.queued, s.in_progress]);
    expect(applyEvent(job, s.in_progress, "linux-4cpu").changed).toBe(false);
  });

  it("keeps the creation time when completed arrives first and queued later", () => {
    const s = story(false);
    const job = fold([s.completed, s.queued]);
    expect(job).toMatchObject({
      state: "completed",
      conclusion: "cancelled",
      queuedAt: T0,
      runnerName: null,
    });
  });

  it("does not take a queued payload's started_at as the start", () => {
    expect(fold([story(true).queued]).startedAt).toBeNull();
  });

  const anyOrderWithDuplicates = (ran: boolean) =>
    fc
      .subarray(["queued", "waiting", "in_progress", "completed"] as JobAction[], { minLength: 1 })
      .filter((actions) => ran || !actions.includes("in_progress"))
      .chain((actions) => {
        const events = actions.map((a) => story(ran)[a]);
        const withRepeats = (n: number) =>
          fc.array(fc.constantFrom(...events), { minLength: n, maxLength: n + 8 }).chain((extra) =>
            fc.shuffledSubarray([...events, ...extra], {
              minLength: events.length + extra.length,
            }),
          );
        return fc.tuple(fc.constant(actions), withRepeats(0), withRepeats(2));
      });

  it("converges to the same row for any order and any repetition, once a runner or the end is seen", () => {
    fc.assert(
      fc.property(fc.boolean().chain(anyOrderWithDuplicates), ([actions, first, second]) => {
        fc.pre(actions.includes("in_progress") || actions.includes("completed"));
        const a = fold(first);
        const b = fold(second);
        expect(a).toEqual(b);
        expect(a.state).toBe(actions.includes("completed") ? "completed" : "in_progress");
      }),
      { numRuns: 500 },
    );
  });

  it("between queued and waiting alone, ends in the state that arrived last, all else equal", () => {
    fc.assert(
      fc.property(anyOrderWithDuplicates(true), ([actions, first, second]) => {
        fc.pre(!actions.includes("in_progress") && !actions.includes("completed"));
        const a = fold(first);
        const b = fold(second);
        expect(a.state).toBe(first.at(-1)?.action);
        expect({ ...a, state: "x" }).toEqual({ ...b, state: "x" });
      }),
      { numRuns: 300 },
    );
  });

  it("never moves a job backwards, whatever event comes next", () => {
    const rank = { waiting: 0, queued: 0, in_progress: 1, completed: 2 };
    fc.assert(
      fc.property(anyOrderWithDuplicates(true), ([, events]) => {
        let job: Job | undefined;
        for (const event of events) {
          const next = applyEvent(job, event, "linux-4cpu").job;
          if (job) expect(rank[next.state]).toBeGreaterThanOrEqual(rank[job.state]);
          job = next;
        }
      }),
      { numRuns: 300 },
    );
  });
});
