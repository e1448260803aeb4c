import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type PendingJob,
  planDispatch,
  relaunchVerdict,
  retryAt,
} from "../../src/core/dispatch-plan.js";
import { launchAttempts, remainingAttempts } from "../../src/core/launch-attempts.js";
import { bindRunner, canServe } from "../../src/core/runner-binding.js";
import { parseRunnerName, runnerName } from "../../src/core/runner-name.js";

const now = new Date("2026-11-23T12:00:00Z");
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
const job = (
  jobId: number,
  pool: string,
  queuedMinutesAgo: number,
  notBefore: Date | null = null,
  vmsLaunched = 0,
  repository = "acme/app",
): PendingJob => ({
  jobId,
  pool,
  repository,
  queuedAt: minutesAgo(queuedMinutesAgo),
  notBefore,
  vmsLaunched,
});
// A job of `repository` in pool "p", queued `queuedMinutesAgo` minutes ago.
const repoJob = (jobId: number, repository: string, queuedMinutesAgo: number) =>
  job(jobId, "p", queuedMinutesAgo, null, 0, repository);
const limits = (
  live: Record<string, number>,
  max: Record<string, number>,
  fleetMax = 100,
  budget = 100,
) => ({
  liveByPool: new Map(Object.entries(live)),
  maxByPool: new Map(Object.entries(max)),
  fleetMax,
  budget,
  maxLaunchesPerJob: 3,
});

describe("runner names", () => {
  it("name the fleet, the job and the launch, and read back", () => {
    expect(runnerName("prod", 12877621891, 2)).toBe("prod-12877621891-2");
    expect(parseRunnerName("prod", "prod-12877621891-2")).toEqual({
      jobId: 12877621891,
      launch: 2,
    });
  });

  it.each(["other-1-1", "prod-1", "prod-x-1", "prod-1-1-1", "my runner"])(
    "do not claim %s",
    (name) => {
      expect(parseRunnerName("prod", name)).toBeUndefined();
    },
  );

  it("refuse a name GitHub would reject", () => {
    expect(() => runnerName("f".repeat(51), 12877621891, 1)).toThrow(RangeError);
  });
});

describe("dispatch plan", () => {
  it("launches oldest first within each pool's free slots", () => {
    const pending = [job(1, "a", 1), job(2, "a", 5), job(3, "a", 3), job(4, "b", 2)];
    const chosen = planDispatch(pending, limits({ a: 1 }, { a: 3, b: 5 }), now);
    expect(chosen.map((j) => j.jobId)).toEqual([2, 3, 4]);
  });

  it("does not let a full pool hold back another pool", () => {
    const pending = [job(1, "full", 9), job(2, "full", 8), job(3, "free", 1)];
    expect(
      planDispatch(pending, limits({ full: 2 }, { full: 2, free: 1 }), now).map((j) => j.jobId),
    ).toEqual([3]);
  });

  it("stops at the fleet limit and at the round's rate budget", () => {
    const pending = [job(1, "a", 3), job(2, "b", 2), job(3, "a", 1)];
    expect(
      planDispatch(pending, limits({ a: 0, b: 9 }, { a: 9, b: 9 }, 11), now).map((j) => j.jobId),
    ).toEqual([1, 3]);
    expect(
      planDispatch(pending, limits({}, { a: 9, b: 9 }, 100, 1), now).map((j) => j.jobId),
    ).toEqual([1]);
  });

  it("skips a job still backing off after a failed launch", () => {
    const pending = [
      job(1, "a", 5, new Date(now.getTime() + 1000)),
      job(2, "a", 1, minutesAgo(0.5)),
    ];
    expect(planDispatch(pending, limits({}, { a: 5 }), now).map((j) => j.jobId)).toEqual([2]);
  });

  it("gives a job no more VMs once it had maxLaunchesPerJob of them", () => {
    const pending = [job(1, "a", 5, null, 3), job(2, "a", 4, null, 2), job(3, "a", 1, null, 0)];
    expect(planDispatch(pending, limits({}, { a: 5 }), now).map((j) => j.jobId)).toEqual([2, 3]);
  });

  it("never exceeds any limit, for any mix of jobs", () => {
    const pools = ["a", "b", "c"];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ id: fc.nat(10_000), pool: fc.constantFrom(...pools), age: fc.nat(60) }),
        ),
        fc.tuple(fc.nat(5), fc.nat(5), fc.nat(5)),
        fc.tuple(fc.nat(6), fc.nat(6), fc.nat(6)),
        fc.nat(20),
        fc.nat(20),
        (jobs, live, max, fleetMax, budget) => {
          const pending = jobs.map((j) => job(j.id, j.pool, j.age));
          const l = limits(
            Object.fromEntries(pools.map((p, i) => [p, live[i] as number])),
            Object.fromEntries(pools.map((p, i) => [p, max[i] as number])),
            fleetMax,
            budget,
          );
          const chosen = planDispatch(pending, l, now);
          expect(chosen.length).toBeLessThanOrEqual(budget);
          const liveTotal = live.reduce((a, b) => a + b, 0);
          expect(chosen.length).toBeLessThanOrEqual(Math.max(0, fleetMax - liveTotal));
          pools.forEach((p, i) => {
            const added = chosen.filter((j) => j.pool === p).length;
            expect(added).toBeLessThanOrEqual(
              Math.max(0, (max[i] as number) - (live[i] as number)),
            );
          });
        },
      ),
    );
  });

  it("backs off exponentially with jitter, up to a cap", () => {
    const wait = (failures: number, jitter: number) =>
      (retryAt(now, failures, jitter).getTime() - now.getTime()) / 1000;
    expect(wait(1, 0)).toBe(2.5);
    expect(wait(1, 0.999)).toBeCloseTo(5, 1);
    expect(wait(3, 0)).toBe(10);
    expect(wait(30, 0)).toBe(150);
    expect(wait(30, 1)).toBe(300);
  });
});

describe("fair share across repositories", () => {
  // 20 jobs of acme/a queued before 3 of acme/b, in pool "p" (ids 1-20, then 21-23).
  const burst = [
    ...Array.from({ length: 20 }, (_, i) => repoJob(i + 1, "acme/a", 60 - i)),
    ...Array.from({ length: 3 }, (_, i) => repoJob(21 + i, "acme/b", 30 - i)),
  ];
  const capped = (
    cap: { pool?: number; fleet?: number },
    live: Record<string, number> = {},
    budget = 100,
  ) => ({
    ...limits({ p: Object.values(live).reduce((a, b) => a + b, 0) }, { p: 10 }, 100, budget),
    liveByRepository: new Map([["p", new Map(Object.entries(live))]]),
    repositoryCaps: {
      byPool: new Map(cap.pool === undefined ? [] : [["p", cap.pool]]),
      ...(cap.fleet === undefined ? {} : { fleet: cap.fleet }),
    },
  });
  const repos = (chosen: readonly PendingJob[]) => chosen.map((j) => j.repository);

  it("gives a burst in one repository its cap and the other repository its jobs", () => {
    const chosen = planDispatch(burst, capped({ pool: 4 }), now);
    expect(chosen.filter((j) => j.repository === "acme/a").map((j) => j.jobId)).toEqual([
      1, 2, 3, 4,
    ]);
    expect(chosen.filter((j) => j.repository === "acme/b").map((j) => j.jobId)).toEqual([
      21, 22, 23,
    ]);
  });

  it("takes turns across repositories, the repository queued first going first", () => {
    const chosen = planDispatch(burst, capped({ pool: 4 }, {}, 5), now);
    expect(repos(chosen)).toEqual(["acme/a", "acme/b", "acme/a", "acme/b", "acme/a"]);
    expect(chosen.map((j) => j.jobId)).toEqual([1, 21, 2, 22, 3]);
  });

  it("gives a repository already at its cap nothing, and its free share to the others", () => {
    const chosen = planDispatch(burst, capped({ pool: 4 }, { "acme/a": 4, "acme/b": 1 }), now);
    expect(chosen.map((j) => j.jobId)).toEqual([21, 22, 23]);
    const nearly = planDispatch(burst, capped({ pool: 4 }, { "acme/a": 3 }), now);
    expect(repos(nearly).filter((r) => r === "acme/a")).toHaveLength(1);
  });

  it("applies the fleet's maxRunnersPerRepository to a pool without its own, and the pool's own first", () => {
    expect(repos(planDispatch(burst, capped({ fleet: 2 }), now))).toEqual([
      "acme/a",
      "acme/b",
      "acme/a",
      "acme/b",
    ]);
    const poolWins = planDispatch(burst, capped({ pool: 6, fleet: 2 }), now);
    expect(repos(poolWins).filter((r) => r === "acme/a")).toHaveLength(6);
  });

  it("launches in queue order, as before, when no cap is set", () => {
    const chosen = planDispatch(burst, capped({}), now);
    expect(chosen.map((j) => j.jobId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(planDispatch(burst, limits({}, { p: 10 }), now)).toEqual(chosen);
  });

  it("counts a repository's runners per pool: its runners elsewhere do not hold it back", () => {
    const l = {
      ...capped({ pool: 2 }),
      liveByRepository: new Map([["other", new Map([["acme/a", 9]])]]),
    };
    expect(repos(planDispatch(burst, l, now)).filter((r) => r === "acme/a")).toHaveLength(2);
  });

  it("never gives a repository more than its cap, nor starves one with jobs and room", () => {
    const names = ["acme/a", "acme/b", "acme/c"];
    fc.assert(
      fc.property(
        fc.array(fc.record({ repo: fc.constantFrom(...names), age: fc.nat(60) }), {
          maxLength: 40,
        }),
        fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4)),
        fc.integer({ min: 1, max: 5 }),
        fc.nat(12),
        (jobs, live, cap, budget) => {
          const pending = jobs.map((j, i) => repoJob(i + 1, j.repo, j.age));
          const liveBy = Object.fromEntries(names.map((r, i) => [r, live[i] as number]));
          const chosen = planDispatch(pending, capped({ pool: cap }, liveBy, budget), now);
          const poolLive = live.reduce((a, b) => a + b, 0);
          expect(chosen.length).toBeLessThanOrEqual(Math.min(budget, Math.max(0, 10 - poolLive)));
          names.forEach((r, i) => {
            const got = chosen.filter((j) => j.repository === r).length;
            const room = Math.max(0, cap - (live[i] as number));
            const waiting = pending.filter((j) => j.repository === r).length;
            expect(got).toBeLessThanOrEqual(room);
            // Round-robin: a repository with room and jobs gets within one of any other.
            if (got < Math.min(room, waiting))
              names.forEach((o) => {
                expect(chosen.filter((j) => j.repository === o).length).toBeLessThanOrEqual(
                  got + 1,
                );
              });
          });
        },
      ),
    );
  });
});

describe("relaunch verdict", () => {
  it.each([
    [{ status: "queued" }, "launch"],
    [{ status: "waiting" }, "launch"],
    [{ status: "in_progress" }, "started"],
    [{ status: "completed" }, "close"],
    [undefined, "close"],
  ] as const)("for GitHub's %j is %s", (job, verdict) => {
    expect(relaunchVerdict(job)).toBe(verdict);
  });
});

describe("launch attempts", () => {
  it("try the next type, then the next zone, then on-demand", () => {
    const attempts = launchAttempts(
      ["c7i.xlarge", "c6i.xlarge"],
      "spot-then-on-demand",
      ["a", "b"],
      1,
    );
    expect(attempts.map((a) => `${a.market}/${a.instanceType}/${a.availabilityZone}`)).toEqual([
      "spot/c7i.xlarge/b",
      "spot/c6i.xlarge/b",
      "spot/c7i.xlarge/a",
      "spot/c6i.xlarge/a",
      "on-demand/c7i.xlarge/b",
      "on-demand/c6i.xlarge/b",
      "on-demand/c7i.xlarge/a",
      "on-demand/c6i.xlarge/a",
    ]);
  });

  it("stay in the pool's single market", () => {
    expect(
      new Set(launchAttempts(["t3.large"], "on-demand", ["a", "b", "c"]).map((a) => a.market)),
    ).toEqual(new Set(["on-demand"]));
  });

  it("move on after capacity errors, drop spot past the spot quota, and stop on a fatal error", () => {
    const attempts = launchAttempts(["x.large", "y.large"], "spot-then-on-demand", ["a", "b"]);
    const first = attempts[0] as (typeof attempts)[number];
    expect(remainingAttempts(attempts, first, "capacity")).toHaveLength(7);
    expect(
      remainingAttempts(attempts, first, "spot-limit").every((a) => a.market === "on-demand"),
    ).toBe(true);
    expect(
      remainingAttempts(attempts, first, "zone-unsupported").some(
        (a) => a.instanceType === "x.large" && a.availabilityZone === "a",
      ),
    ).toBe(false);
    expect(remainingAttempts(attempts, first, "fatal")).toEqual([]);
  });
});

describe("runner binding", () => {
  const runners = [
    { runnerName: "f-1-1", jobId: 1 },
    { runnerName: "f-2-1", jobId: 2 },
  ];
  it.each([
    ["its own runner", 1, "f-1-1", { kind: "own" }],
    ["another job's runner", 2, "f-1-1", { kind: "stolen", orphanedJob: 1 }],
    ["a runner of another fleet", 1, "elsewhere-9", { kind: "foreign" }],
  ])("tells a job that took %s", (_, jobId, takenBy, expected) => {
    expect(bindRunner(jobId, takenBy, runners)).toEqual(expected);
  });
});

describe("spare runner", () => {
  it.each([
    ["the same labels", ["Linux", "mayfly-4cpu"], ["linux", "MAYFLY-4CPU"], "p", true],
    ["a subset of its labels", ["linux", "mayfly-4cpu", "extra"], ["mayfly-4cpu"], "p", true],
    [
      "a label it lacks",
      ["linux", "mayfly-4cpu", "mayfly-run-2"],
      ["mayfly-4cpu", "mayfly-run-1"],
      "p",
      false,
    ],
    ["another pool", ["mayfly-4cpu"], ["mayfly-4cpu"], "q", false],
  ])("decides for a job asking for %s", (_, runnerLabels, jobLabels, jobPool, expected) => {
    expect(
      canServe({ pool: "p", labels: runnerLabels }, { pool: jobPool, labels: jobLabels }),
    ).toBe(expected);
  });
});
