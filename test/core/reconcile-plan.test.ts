import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchVms } from "../../src/core/reconcile-match.js";
import {
  planReconcile,
  type ReconcileOptions,
  type ReconcilePlan,
} from "../../src/core/reconcile-plan.js";
import type {
  LedgerRunner,
  ObservedRegistration,
  ObservedVm,
  ObservedVmStatus,
  QueuedJob,
  ReconcileSnapshot,
} from "../../src/core/reconcile-snapshot.js";
import { runnerName } from "../../src/core/runner-name.js";

const NOW = new Date("2026-11-23T12:00:00Z");
const FLEET = "prod";
const GRACE = 120;
const POOL = { name: "4cpu", idleTimeout: 600, bootTimeout: 180, maxLifetime: 3600 };
const SPOT = "Server.SpotInstanceTermination: Spot instance termination";
const RUNNER_SUBNET = "subnet-r1";
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

function row(rowId: number, over: Partial<LedgerRunner> = {}): LedgerRunner {
  return {
    rowId,
    instanceId: `i-${rowId}`,
    runnerName: runnerName(FLEET, 100 + rowId, 1),
    pool: POOL.name,
    jobId: 100 + rowId,
    state: "running",
    createdAt: ago(310),
    launchedAt: ago(300),
    jobEnded: false,
    tookJob: true,
    githubRunnerId: 5000 + rowId,
    asked: true,
    ...over,
  };
}

function vm(instanceId: string, over: Partial<ObservedVm> = {}): ObservedVm {
  return {
    instanceId,
    status: "running",
    pool: POOL.name,
    jobId: null,
    runnerName: null,
    launchedAt: ago(300),
    stateReason: null,
    subnetId: RUNNER_SUBNET,
    ...over,
  };
}

/** The VM the cloud lists for a runner row, tagged as the launcher tags it. */
function vmOf(r: LedgerRunner, over: Partial<ObservedVm> = {}): ObservedVm {
  return vm(r.instanceId ?? `i-named-${r.rowId}`, {
    runnerName: r.runnerName,
    jobId: r.jobId,
    launchedAt: r.launchedAt ?? ago(300),
    ...over,
  });
}

function reg(id: number, name: string, over: Partial<ObservedRegistration> = {}) {
  return { id, name, status: "offline", busy: false, ...over } as ObservedRegistration;
}

function queued(jobId: number, launchFailures: number, vmsLaunched = 0): QueuedJob {
  return { jobId, pool: POOL.name, queuedAt: ago(600 - jobId), launchFailures, vmsLaunched };
}

function snap(over: Partial<ReconcileSnapshot> = {}): ReconcileSnapshot {
  return {
    now: NOW,
    fleet: FLEET,
    pools: [POOL],
    runners: [],
    queuedJobs: [],
    vms: [],
    registrations: [],
    leases: [],
    runnerSubnets: [RUNNER_SUBNET],
    launchGraceSeconds: GRACE,
    ...over,
  };
}

const OPTIONS: ReconcileOptions = { maxLaunchFailures: 3 };
const plan = (s: ReconcileSnapshot, o: Partial<ReconcileOptions> = {}) =>
  planReconcile(s, { ...OPTIONS, ...o });

/** A runner row and its VM, both in the snapshot. */
function withVm(r: LedgerRunner, over: Partial<ObservedVm> = {}): Partial<ReconcileSnapshot> {
  return { runners: [r], vms: [vmOf(r, over)] };
}

describe("terminate", () => {
  const cases: [string, Partial<ReconcileSnapshot>, ReconcilePlan["terminate"]][] = [
    [
      "ends a VM of ours the ledger does not know, past the grace",
      { vms: [vm("i-x", { launchedAt: ago(121) })] },
      [
        {
          instanceId: "i-x",
          runnerRowId: null,
          reason: "orphan",
          ageSeconds: 121,
          deregisterFirst: null,
        },
      ],
    ],
    [
      "leaves a VM just launched and not yet recorded alone inside the grace",
      { vms: [vm("i-x", { launchedAt: ago(60) })] },
      [],
    ],
    [
      "leaves an unknown VM launched exactly the grace ago",
      { vms: [vm("i-x", { launchedAt: ago(GRACE) })] },
      [],
    ],
    [
      "ends an unknown VM one millisecond past the grace",
      { vms: [vm("i-x", { launchedAt: new Date(ago(GRACE).getTime() - 1) })] },
      [
        {
          instanceId: "i-x",
          runnerRowId: null,
          reason: "orphan",
          ageSeconds: GRACE,
          deregisterFirst: null,
        },
      ],
    ],
    [
      "ends a stopped VM the ledger does not know",
      { vms: [vm("i-x", { status: "stopped", launchedAt: ago(500) })] },
      [
        {
          instanceId: "i-x",
          runnerRowId: null,
          reason: "orphan",
          ageSeconds: 500,
          deregisterFirst: null,
        },
      ],
    ],
    [
      "ends a VM whose job ended",
      withVm(row(1, { jobEnded: true })),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "job-ended",
          ageSeconds: 300,
          deregisterFirst: 5001,
        },
      ],
    ],
    [
      "ends a VM whose runner serves no job any more",
      withVm(row(1, { jobId: null, tookJob: false })),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "job-ended",
          ageSeconds: 300,
          deregisterFirst: 5001,
        },
      ],
    ],
    [
      "ends again a VM marked terminating that the cloud still runs (crash before the call)",
      withVm(row(1, { state: "terminating", jobEnded: true })),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "job-ended",
          ageSeconds: 300,
          deregisterFirst: 5001,
        },
      ],
    ],
    [
      "leaves a VM serving a live job within its max lifetime",
      withVm(row(1, { launchedAt: ago(3000) })),
      [],
    ],
    [
      "leaves a VM serving a live job at exactly its max lifetime",
      withVm(row(1, { launchedAt: ago(POOL.maxLifetime) })),
      [],
    ],
    [
      "ends a VM serving a live job one second past its max lifetime",
      withVm(row(1, { launchedAt: ago(POOL.maxLifetime + 1) })),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "past-max-lifetime",
          ageSeconds: 3601,
          deregisterFirst: null,
        },
      ],
    ],
    [
      "ends a VM whose runner never took its job, past idle timeout plus grace",
      withVm(row(1, { tookJob: false, launchedAt: ago(POOL.idleTimeout + GRACE + 1) })),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "idle-past-timeout",
          ageSeconds: 721,
          deregisterFirst: 5001,
        },
      ],
    ],
    [
      "ends without asking a VM whose runner was never registered",
      withVm(row(1, { jobEnded: true, githubRunnerId: null })),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "job-ended",
          ageSeconds: 300,
          deregisterFirst: null,
        },
      ],
    ],
    [
      "leaves an idle VM at exactly idle timeout plus grace",
      withVm(row(1, { tookJob: false, launchedAt: ago(POOL.idleTimeout + GRACE) })),
      [],
    ],
    [
      "leaves a VM that is already shutting down",
      withVm(row(1, { jobEnded: true }), { status: "shutting-down" }),
      [],
    ],
    [
      "ends a live VM whose runner row the ledger already ended",
      { vms: [vmOf(row(1))] },
      [
        {
          instanceId: "i-1",
          runnerRowId: null,
          reason: "orphan",
          ageSeconds: 300,
          deregisterFirst: null,
        },
      ],
    ],
    [
      "leaves a VM tagged with the fleet but in none of its runner subnets: the tag is anyone's",
      { vms: [vmOf(row(1), { subnetId: "subnet-elsewhere" })] },
      [],
    ],
    [
      "leaves a tagged VM whose subnet the cloud does not name",
      { vms: [vmOf(row(1), { subnetId: null })] },
      [],
    ],
    [
      "still ends a VM with a runner row of ours whatever its subnet",
      withVm(row(1, { jobEnded: true, githubRunnerId: null }), { subnetId: "subnet-elsewhere" }),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "job-ended",
          ageSeconds: 300,
          deregisterFirst: null,
        },
      ],
    ],
    [
      "judges a VM whose launch was never recorded by its row, found by runner name",
      withVm(row(1, { instanceId: null, state: "launching", launchedAt: null, tookJob: false }), {
        launchedAt: ago(POOL.idleTimeout + GRACE + 1),
      }),
      [
        {
          instanceId: "i-named-1",
          runnerRowId: 1,
          reason: "idle-past-timeout",
          ageSeconds: 721,
          deregisterFirst: 5001,
        },
      ],
    ],
    [
      "ends without asking a VM that never asked for its assignment, past its boot timeout",
      withVm(
        row(1, {
          tookJob: false,
          asked: false,
          githubRunnerId: null,
          launchedAt: ago(POOL.bootTimeout + 1),
        }),
      ),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "never-asked",
          ageSeconds: 181,
          deregisterFirst: null,
        },
      ],
    ],
    [
      "leaves a VM that has not asked at exactly its boot timeout",
      withVm(
        row(1, {
          tookJob: false,
          asked: false,
          githubRunnerId: null,
          launchedAt: ago(POOL.bootTimeout),
        }),
      ),
      [],
    ],
    [
      "leaves a VM that asked, past its boot timeout, until its idle timeout",
      withVm(
        row(1, {
          tookJob: false,
          asked: true,
          githubRunnerId: null,
          launchedAt: ago(POOL.bootTimeout + 1),
        }),
      ),
      [],
    ],
    [
      "leaves a VM whose runner was registered at launch, past the boot timeout",
      withVm(row(1, { tookJob: false, asked: false, launchedAt: ago(POOL.bootTimeout + 1) })),
      [],
    ],
    [
      "keeps limits it cannot know for a pool gone from the config",
      withVm(row(1, { pool: "gone", tookJob: false, launchedAt: ago(99_999) })),
      [],
    ],
  ];
  it.each(cases)("%s", (_, over, expected) => {
    expect(plan(snap(over)).terminate).toEqual(expected);
  });

  // The runner R of row 1 was launched for job 101; another runner ran 101. GitHub may
  // since have given R another job, whose `in_progress` the ledger has not seen.
  const untaken = row(1, { jobEnded: true, tookJob: false });
  const idle = row(1, { tookJob: false, launchedAt: ago(POOL.idleTimeout + GRACE + 1) });
  const registered = (r: LedgerRunner, busy: boolean, over: Partial<ObservedVm> = {}) => ({
    ...withVm(r, over),
    registrations: [reg(7001, r.runnerName, { status: "online", busy })],
  });
  const registrationCases: [string, Partial<ReconcileSnapshot>, ReconcilePlan["terminate"]][] = [
    [
      "deregisters first the runner of a VM whose job ended, when GitHub lists it idle",
      registered(untaken, false),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "job-ended",
          ageSeconds: 300,
          deregisterFirst: 7001,
        },
      ],
    ],
    [
      "leaves a VM whose job ended while GitHub lists its runner busy",
      registered(untaken, true),
      [],
    ],
    [
      "deregisters first an idle VM's runner past idle timeout plus grace",
      registered(idle, false),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "idle-past-timeout",
          ageSeconds: 721,
          deregisterFirst: 7001,
        },
      ],
    ],
    ["leaves an idle VM whose runner GitHub lists busy", registered(idle, true), []],
    [
      "deregisters first the runner of an orphan VM that GitHub lists",
      {
        vms: [vm("i-x", { runnerName: untaken.runnerName, launchedAt: ago(121) })],
        registrations: [reg(7001, untaken.runnerName)],
      },
      [
        {
          instanceId: "i-x",
          runnerRowId: null,
          reason: "orphan",
          ageSeconds: 121,
          deregisterFirst: 7001,
        },
      ],
    ],
    [
      "leaves an orphan VM whose runner GitHub lists busy, within its pool's max lifetime",
      {
        vms: [vm("i-x", { runnerName: untaken.runnerName, launchedAt: ago(POOL.maxLifetime) })],
        registrations: [reg(7001, untaken.runnerName, { busy: true })],
      },
      [],
    ],
    [
      "ends a busy runner's VM past its max lifetime without asking: the hard cap ends a hung job",
      registered(row(1, { launchedAt: ago(POOL.maxLifetime + 1) }), true),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "past-max-lifetime",
          ageSeconds: 3601,
          deregisterFirst: null,
        },
      ],
    ],
    [
      "ends an idle runner's VM past its max lifetime without asking",
      registered(untaken, false, { launchedAt: ago(POOL.maxLifetime + 1) }),
      [
        {
          instanceId: "i-1",
          runnerRowId: 1,
          reason: "job-ended",
          ageSeconds: 3601,
          deregisterFirst: null,
        },
      ],
    ],
  ];
  it.each(registrationCases)("%s", (_, over, expected) => {
    expect(plan(snap(over)).terminate).toEqual(expected);
  });

  it("lets a stolen runner serve the job that took it, and relaunches the job it left", () => {
    // Launched for job 101 (its tag says so); job 202 took it, so the ledger rebound it.
    const stolen = row(1, { jobId: 202 });
    const s = snap({
      runners: [stolen],
      vms: [vmOf(stolen, { jobId: 101 })],
      queuedJobs: [queued(101, 0)],
    });
    expect(plan(s)).toEqual({ ...EMPTY, relaunchCount: 1 });
  });
});

const EMPTY: ReconcilePlan = {
  terminate: [],
  recordTerminated: [],
  abandonLaunch: [],
  deleteRunners: [],
  releaseSubnets: [],
  giveUp: [],
  relaunchCount: 0,
};

describe("record terminated", () => {
  const cases: [string, Partial<ReconcileSnapshot>, ReconcilePlan["recordTerminated"]][] = [
    [
      "records a spot VM the cloud took back, with the cloud's reason",
      withVm(row(1, { tookJob: false }), { status: "terminated", stateReason: SPOT }),
      [{ runnerRowId: 1, instanceId: "i-1", reason: "spot-interrupted", cloudReason: SPOT }],
    ],
    [
      "records a VM that powered off after its job",
      withVm(row(1), {
        status: "terminated",
        stateReason: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
      }),
      [
        {
          runnerRowId: 1,
          instanceId: "i-1",
          reason: "vm-terminated",
          cloudReason: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
        },
      ],
    ],
    [
      "records a VM the cloud lists no more, past the grace",
      { runners: [row(1, { launchedAt: ago(GRACE + 1) })] },
      [{ runnerRowId: 1, instanceId: "i-1", reason: "vm-gone", cloudReason: null }],
    ],
    [
      "waits for a VM the cloud does not list yet, inside the grace",
      { runners: [row(1, { launchedAt: ago(GRACE) })] },
      [],
    ],
    ["waits for a VM still shutting down", withVm(row(1), { status: "shutting-down" }), []],
    [
      "records a terminated VM known only by runner name, with its instance ID",
      withVm(row(1, { instanceId: null, state: "launching", launchedAt: null }), {
        status: "terminated",
      }),
      [{ runnerRowId: 1, instanceId: "i-named-1", reason: "vm-terminated", cloudReason: null }],
    ],
  ];
  it.each(cases)("%s", (_, over, expected) => {
    expect(plan(snap(over)).recordTerminated).toEqual(expected);
  });
});

describe("abandon launch", () => {
  const launching = (createdAgo: number) =>
    row(1, { instanceId: null, state: "launching", createdAt: ago(createdAgo), launchedAt: null });
  const cases: [string, Partial<ReconcileSnapshot>, ReconcilePlan["abandonLaunch"]][] = [
    [
      "fails a launch with no VM past the grace",
      { runners: [launching(GRACE + 1)] },
      [{ runnerRowId: 1, jobId: 101, reason: "no-vm-after-grace" }],
    ],
    ["leaves a launch in flight at exactly the grace", { runners: [launching(GRACE)] }, []],
    [
      "leaves a launch whose VM the cloud lists by runner name",
      { runners: [launching(900)], vms: [vmOf(launching(900))] },
      [],
    ],
  ];
  it.each(cases)("%s", (_, over, expected) => {
    expect(plan(snap(over)).abandonLaunch).toEqual(expected);
  });
});

describe("delete runners", () => {
  const name = runnerName(FLEET, 101, 1);
  const cases: [string, Partial<ReconcileSnapshot>, ReconcilePlan["deleteRunners"]][] = [
    [
      "deletes an offline registration with no VM and no runner row",
      { registrations: [reg(7, name)] },
      [{ runnerId: 7, runnerName: name, reason: "vm-never-existed" }],
    ],
    [
      "deletes an offline registration whose VM terminated",
      {
        ...withVm(row(1), { status: "terminated", stateReason: SPOT }),
        registrations: [reg(7, name)],
      },
      [{ runnerId: 7, runnerName: name, reason: "vm-gone" }],
    ],
    ["never deletes a busy registration", { registrations: [reg(7, name, { busy: true })] }, []],
    ["keeps an online registration", { registrations: [reg(7, name, { status: "online" })] }, []],
    [
      "keeps the registration of a VM still booting",
      { ...withVm(row(1, { tookJob: false })), registrations: [reg(7, name)] },
      [],
    ],
    [
      "keeps the registration of a VM still shutting down",
      { ...withVm(row(1), { status: "shutting-down" }), registrations: [reg(7, name)] },
      [],
    ],
    [
      "keeps the registration of a launch in flight",
      {
        runners: [
          row(1, { instanceId: null, state: "launching", launchedAt: null, createdAt: ago(30) }),
        ],
        registrations: [reg(7, name)],
      },
      [],
    ],
    [
      "deletes the registration of a launch abandoned in the same pass",
      {
        runners: [
          row(1, { instanceId: null, state: "launching", launchedAt: null, createdAt: ago(900) }),
        ],
        registrations: [reg(7, name)],
      },
      [{ runnerId: 7, runnerName: name, reason: "vm-never-existed" }],
    ],
    [
      "leaves registrations whose names are not ours",
      { registrations: [reg(7, "staging-101-1"), reg(8, "prod-runner-a")] },
      [],
    ],
  ];
  it.each(cases)("%s", (_, over, expected) => {
    expect(plan(snap(over)).deleteRunners).toEqual(expected);
  });
});

describe("release subnets", () => {
  it("returns leases whose holder is not a live runner row, and only those", () => {
    const s = snap({
      ...withVm(row(1)),
      leases: [
        { subnetId: "subnet-b", runnerRowId: 1 },
        { subnetId: "subnet-a", runnerRowId: 9 },
      ],
    });
    expect(plan(s).releaseSubnets).toEqual([
      { subnetId: "subnet-a", runnerRowId: 9, reason: "holder-not-live" },
    ]);
  });

  it("leaves the lease of a row ended in this pass to that row's own action", () => {
    const s = snap({
      ...withVm(row(1), { status: "terminated" }),
      leases: [{ subnetId: "subnet-a", runnerRowId: 1 }],
    });
    expect(plan(s).releaseSubnets).toEqual([]);
    expect(plan(s).recordTerminated).toHaveLength(1);
  });
});

describe("give up and relaunch", () => {
  const gaveUp = (reason: string, launchFailures: number, vmsLaunched: number) => [
    { jobId: 50, pool: POOL.name, reason, launchFailures, vmsLaunched },
  ];
  it.each([
    [0, [], 1],
    [2, [], 1],
    [3, gaveUp("too-many-launch-failures", 3, 0), 0],
    [7, gaveUp("too-many-launch-failures", 7, 0), 0],
  ])("a job that failed %i launches (bound 3)", (failures, giveUp, relaunchCount) => {
    const p = plan(snap({ queuedJobs: [queued(50, failures)] }));
    expect(p.giveUp).toEqual(giveUp);
    expect(p.relaunchCount).toBe(relaunchCount);
  });

  it.each([
    [0, [], 1],
    [1, [], 1],
    [2, gaveUp("too-many-launches", 0, 2), 0],
    [5, gaveUp("too-many-launches", 0, 5), 0],
  ])("a job that had %i VMs (bound 2)", (vms, giveUp, relaunchCount) => {
    const p = plan(snap({ queuedJobs: [queued(50, 0, vms)] }), { maxLaunchesPerJob: 2 });
    expect(p.giveUp).toEqual(giveUp);
    expect(p.relaunchCount).toBe(relaunchCount);
  });

  it("relaunches in the same pass the job of a VM it ends as idle", () => {
    const idle = row(1, { tookJob: false, launchedAt: ago(POOL.idleTimeout + GRACE + 1) });
    const p = plan(snap(withVm(idle)));
    expect(p.terminate.map((t) => t.reason)).toEqual(["idle-past-timeout"]);
    expect(p.relaunchCount).toBe(1);
  });

  it("relaunches in the same pass the job of a VM that never asked for its assignment", () => {
    const dead = row(1, {
      tookJob: false,
      asked: false,
      githubRunnerId: null,
      launchedAt: ago(POOL.bootTimeout + 1),
    });
    const p = plan(snap(withVm(dead)));
    expect(p.terminate.map((t) => t.reason)).toEqual(["never-asked"]);
    expect(p.relaunchCount).toBe(1);
  });
});

describe("budget", () => {
  const orphans = [5, 3, 9, 1, 7].map((n) => vm(`i-${n}`, { launchedAt: ago(1000 + n) }));
  it("caps each kind, oldest first; the rest wait for the next pass", () => {
    const p = plan(
      snap({
        vms: orphans,
        registrations: [1, 2, 3].map((n) => reg(n, runnerName(FLEET, 900 + n, 1))),
        queuedJobs: [queued(50, 9), queued(51, 9), queued(52, 9)],
      }),
      { maxActionsPerKind: 2 },
    );
    expect(p.terminate.map((t) => t.instanceId)).toEqual(["i-9", "i-7"]);
    expect(p.deleteRunners.map((d) => d.runnerId)).toEqual([1, 2]);
    expect(p.giveUp.map((g) => g.jobId)).toEqual([50, 51]);
  });
  it("does nothing with a budget of zero", () => {
    expect(plan(snap({ vms: orphans }), { maxActionsPerKind: 0 })).toEqual(EMPTY);
  });
  it("refuses a negative budget", () => {
    expect(() => plan(snap(), { maxActionsPerKind: -1 })).toThrow(RangeError);
  });
});

// --- properties -------------------------------------------------------------------------

/** Failed launches of a job so far, a fixed function so the model needs no extra state. */
const failuresOf = (jobId: number) => jobId % 4;
/** VMs started for a job so far, likewise. */
const launchesOf = (jobId: number) => jobId % 5;

/**
 * The world after the plan's actions are carried out, as the ledger, the cloud and GitHub
 * promise: terminate starts shutting a VM down and marks its row (which serves no job then); ending a row returns its
 * lease and, if its job still waits, queues the job again (after a failure for an abandoned
 * launch); leases are returned; registrations are deleted; given-up jobs leave the queue.
 */
function applyPlan(s: ReconcileSnapshot, p: ReconcilePlan): ReconcileSnapshot {
  const ending = new Set(p.terminate.map((t) => t.instanceId));
  const marked = new Set(
    p.terminate.flatMap((t) => (t.runnerRowId === null ? [] : [t.runnerRowId])),
  );
  const ended = new Set([...p.recordTerminated, ...p.abandonLaunch].map((a) => a.runnerRowId));
  const abandoned = new Set(p.abandonLaunch.map((a) => a.runnerRowId));
  const deleted = new Set([
    ...p.deleteRunners.map((d) => d.runnerId),
    ...p.terminate.flatMap((t) => (t.deregisterFirst === null ? [] : [t.deregisterFirst])),
  ]);
  const released = new Set(p.releaseSubnets.map((r) => r.subnetId));
  const givenUp = new Set(p.giveUp.map((g) => g.jobId));
  const runners = s.runners
    .filter((r) => !ended.has(r.rowId))
    .map((r) => (marked.has(r.rowId) ? { ...r, state: "terminating" as const } : r));
  // A row ended or being ended no longer serves its job (awaiting-runner.ts).
  const serving = runners.filter((r) => r.state !== "terminating");
  const requeued = s.runners
    .filter((r) => ended.has(r.rowId) || marked.has(r.rowId))
    .filter((r) => r.jobId !== null && !r.jobEnded && !r.tookJob)
    .filter((r) => !serving.some((live) => live.jobId === r.jobId))
    .filter((r) => !s.queuedJobs.some((q) => q.jobId === r.jobId))
    .filter((r, i, all) => all.findIndex((o) => o.jobId === r.jobId) === i)
    .map((r) => ({
      jobId: r.jobId ?? 0,
      pool: r.pool,
      queuedAt: r.createdAt,
      launchFailures: failuresOf(r.jobId ?? 0) + (abandoned.has(r.rowId) ? 1 : 0),
      vmsLaunched: launchesOf(r.jobId ?? 0),
    }));
  return {
    ...s,
    runners,
    vms: s.vms.map((v) => (ending.has(v.instanceId) ? { ...v, status: "shutting-down" } : v)),
    registrations: s.registrations.filter((r) => !deleted.has(r.id)),
    leases: s.leases.filter((l) => !released.has(l.subnetId) && !ended.has(l.runnerRowId)),
    queuedJobs: [...s.queuedJobs.filter((q) => !givenUp.has(q.jobId)), ...requeued],
  };
}

const STATUSES: ObservedVmStatus[] = [
  "pending",
  "running",
  "shutting-down",
  "terminated",
  "stopping",
  "stopped",
];
// Ages cluster around every boundary: the grace, idle timeout + grace and max lifetime.
const secondsAgo = fc.oneof(
  fc.integer({ min: 0, max: 8000 }),
  fc.constantFrom(0, 60, 120, 121, 300, 600, 720, 721, 900, 3600, 3601),
);
const when = secondsAgo.map(ago);
/** A pool limit in seconds, often one the generated ages sit exactly on. */
const limit = (max: number, usual: number) =>
  fc.oneof(fc.integer({ min: 1, max }), fc.constant(usual));

const rowArb = fc.record({
  hasInstance: fc.boolean(),
  pool: fc.constantFrom("4cpu", "8cpu", "gone"),
  jobId: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
  state: fc.constantFrom("launching", "running", "terminating") as fc.Arbitrary<
    LedgerRunner["state"]
  >,
  createdAt: when,
  launchedAt: fc.option(when, { nil: null }),
  jobEnded: fc.boolean(),
  tookJob: fc.boolean(),
  vms: fc.array(
    fc.record({ status: fc.constantFrom(...STATUSES), launchedAt: when, spot: fc.boolean() }),
    { maxLength: 2 },
  ),
  registration: fc.option(fc.record({ online: fc.boolean(), busy: fc.boolean() }), { nil: null }),
});

const worldArb = fc
  .record({
    rows: fc.array(rowArb, { maxLength: 8 }),
    orphans: fc.array(
      fc.record({
        status: fc.constantFrom(...STATUSES),
        launchedAt: when,
        name: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
      }),
      { maxLength: 4 },
    ),
    strayRegistrations: fc.array(fc.record({ online: fc.boolean(), busy: fc.boolean() }), {
      maxLength: 3,
    }),
    leaseHolders: fc.uniqueArray(fc.integer({ min: 0, max: 12 }), { maxLength: 6 }),
    queued: fc.uniqueArray(fc.integer({ min: 50, max: 60 }), { maxLength: 4 }),
    pools: fc.tuple(limit(900, 600), limit(4000, 3600), limit(900, 600), limit(4000, 3600)),
    grace: fc.constantFrom(0, 60, 120, 300),
    maxLaunchFailures: fc.integer({ min: 1, max: 4 }),
    maxLaunches: fc.integer({ min: 1, max: 5 }),
  })
  .map((w): { snapshot: ReconcileSnapshot; options: ReconcileOptions } => {
    const name = (i: number) => runnerName(FLEET, 10 + i, i + 1);
    const runners = w.rows.map(
      (r, i): LedgerRunner => ({
        rowId: i,
        instanceId: r.hasInstance ? `i-row-${i}` : null,
        runnerName: name(i),
        pool: r.pool,
        jobId: r.jobId,
        state: r.state,
        createdAt: r.createdAt,
        launchedAt: r.launchedAt,
        jobEnded: r.jobEnded,
        tookJob: r.tookJob,
        githubRunnerId: 1000 + i,
        asked: true,
      }),
    );
    const vms: ObservedVm[] = w.rows.flatMap((r, i) =>
      r.vms.map((v, k) =>
        vm(k === 0 && r.hasInstance ? `i-row-${i}` : `i-dup-${i}-${k}`, {
          status: v.status,
          launchedAt: v.launchedAt,
          runnerName: name(i),
          stateReason: v.status === "terminated" && v.spot ? SPOT : null,
        }),
      ),
    );
    vms.push(
      ...w.orphans.map((o, k) =>
        vm(`i-orphan-${k}`, {
          status: o.status,
          launchedAt: o.launchedAt,
          runnerName: o.name === null ? null : name(o.name),
        }),
      ),
    );
    const registrations = [
      ...w.rows.flatMap((r, i) => (r.registration === null ? [] : [{ ...r.registration, i }])),
      ...w.strayRegistrations.map((r, k) => ({ ...r, i: 20 + k })),
    ].map((r) =>
      reg(2000 + r.i, name(r.i), { status: r.online ? "online" : "offline", busy: r.busy }),
    );
    const [idle4, max4, idle8, max8] = w.pools;
    return {
      snapshot: snap({
        pools: [
          { name: "4cpu", idleTimeout: idle4, bootTimeout: 180, maxLifetime: max4 },
          { name: "8cpu", idleTimeout: idle8, bootTimeout: 180, maxLifetime: max8 },
        ],
        runners,
        vms,
        registrations,
        leases: w.leaseHolders.map((h) => ({ subnetId: `subnet-${h}`, runnerRowId: h })),
        queuedJobs: w.queued.map((j) => ({
          jobId: j,
          pool: "4cpu",
          queuedAt: ago(j),
          launchFailures: failuresOf(j),
          vmsLaunched: launchesOf(j),
        })),
        launchGraceSeconds: w.grace,
      }),
      options: { maxLaunchFailures: w.maxLaunchFailures, maxLaunchesPerJob: w.maxLaunches },
    };
  });

describe("properties", () => {
  it("never ends a VM serving a live job within its max lifetime", () => {
    fc.assert(
      fc.property(worldArb, ({ snapshot, options }) => {
        const ended = new Set(planReconcile(snapshot, options).terminate.map((t) => t.instanceId));
        for (const r of snapshot.runners) {
          if (r.instanceId === null || !r.tookJob || r.jobEnded || r.jobId === null) continue;
          const v = snapshot.vms.find((x) => x.instanceId === r.instanceId);
          const pool = snapshot.pools.find((p) => p.name === r.pool);
          if (v === undefined) continue;
          const age = NOW.getTime() - v.launchedAt.getTime();
          if (pool === undefined || age <= pool.maxLifetime * 1000)
            expect(ended.has(v.instanceId)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  /** The pool limits and age by which a live VM is judged, as planTerminations finds them. */
  const judged = (snapshot: ReconcileSnapshot, v: ObservedVm) => {
    const r = matchVms(snapshot.runners, snapshot.vms).rowOfVm.get(v.instanceId);
    const pool = snapshot.pools.find((p) => p.name === (r?.pool ?? v.pool));
    const name = r?.runnerName ?? v.runnerName;
    const age = NOW.getTime() - v.launchedAt.getTime();
    return {
      pastLifetime: pool !== undefined && age > pool.maxLifetime * 1000,
      registration: snapshot.registrations.find((g) => g.name === name),
      ledgerRunnerId: r?.githubRunnerId ?? null,
    };
  };

  it("never ends a VM whose runner GitHub lists as busy, within its max lifetime", () => {
    fc.assert(
      fc.property(worldArb, ({ snapshot, options }) => {
        for (const t of planReconcile(snapshot, options).terminate) {
          const v = snapshot.vms.find((x) => x.instanceId === t.instanceId);
          if (v === undefined) throw new Error("ended a VM the cloud did not list");
          const { pastLifetime, registration } = judged(snapshot, v);
          if (registration?.busy === true) expect(pastLifetime).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("deregisters first every runner GitHub lists or the ledger knows before ending its VM, unless past max lifetime", () => {
    fc.assert(
      fc.property(worldArb, ({ snapshot, options }) => {
        for (const t of planReconcile(snapshot, options).terminate) {
          const v = snapshot.vms.find((x) => x.instanceId === t.instanceId);
          if (v === undefined) throw new Error("ended a VM the cloud did not list");
          const { pastLifetime, registration, ledgerRunnerId } = judged(snapshot, v);
          expect(t.deregisterFirst).toBe(
            pastLifetime ? null : (registration?.id ?? ledgerRunnerId),
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it("is idempotent: planning over the applied plan adds nothing new", () => {
    fc.assert(
      fc.property(worldArb, ({ snapshot, options }) => {
        const first = planReconcile(snapshot, options);
        const after = applyPlan(snapshot, first);
        const second = planReconcile(after, options);
        // The only follow-up: a job the first plan queued again may have used up its launches.
        const requeued = new Set(
          after.queuedJobs
            .filter((q) => !snapshot.queuedJobs.some((o) => o.jobId === q.jobId))
            .map((q) => q.jobId),
        );
        expect(second.giveUp.every((g) => requeued.has(g.jobId))).toBe(true);
        expect({ ...second, giveUp: [], relaunchCount: 0 }).toEqual(EMPTY);
        expect(planReconcile(after, options)).toEqual(second);
      }),
      { numRuns: 500 },
    );
  });

  it("under a budget does a prefix of the uncapped plan, at most the cap of each kind", () => {
    fc.assert(
      fc.property(worldArb, fc.integer({ min: 0, max: 3 }), ({ snapshot, options }, cap) => {
        const full = planReconcile(snapshot, options);
        const capped = planReconcile(snapshot, { ...options, maxActionsPerKind: cap });
        for (const kind of [
          "terminate",
          "recordTerminated",
          "abandonLaunch",
          "deleteRunners",
          "releaseSubnets",
          "giveUp",
        ] as const) {
          expect(capped[kind]).toEqual(full[kind].slice(0, cap));
        }
      }),
      { numRuns: 200 },
    );
  });
});
