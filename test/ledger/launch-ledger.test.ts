import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ClaimRequest, Ledger } from "../../src/ledger/ledger.js";
import { openLedger } from "../../src/ledger/open-ledger.js";
import { jobEvent } from "../support/fixtures.js";
import { needPostgres } from "../support/need-postgres.js";
import { type LedgerKind, type TestLedger, testLedger } from "../support/test-ledger.js";

const postgres = needPostgres("the PostgreSQL launch suites (test/ledger/launch-ledger.test.ts)");
const postgresUrl = postgres.url;
const kinds: LedgerKind[] = ["pglite", "postgresql"];
const now = new Date("2026-11-23T12:00:00Z");
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

const claim = (overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  fleet: "test",
  now,
  budget: 100,
  fleetMax: 100,
  maxByPool: new Map([
    ["a", 2],
    ["b", 5],
  ]),
  maxLaunchesPerJob: 3,
  ...overrides,
});
const vm = (n: number) => ({
  instanceId: `i-${n}`,
  instanceType: "c7i.large",
  market: "on-demand" as const,
  availabilityZone: "eu-west-1a",
  runnerId: n,
  launchedAt: now,
});

let delivery = 0;
const nextDelivery = () => `d${++delivery}`;

/** Records a queued job of a pool, created `queuedMinutesAgo` before now. */
function queueJob(ledger: Ledger, jobId: number, pool: string, queuedMinutesAgo: number) {
  const createdAt = new Date(now.getTime() - queuedMinutesAgo * 60_000);
  return ledger.ingest(
    { id: nextDelivery(), event: "workflow_job", receivedAt: now },
    jobEvent({ jobId, createdAt }),
    pool,
  );
}

describe.each(kinds)("launches on %s", (kind) => {
  const unavailable = kind === "postgresql" && !postgresUrl;
  let t: TestLedger;
  const queue = (jobId: number, pool: string, queuedMinutesAgo = 1) =>
    queueJob(t.ledger, jobId, pool, queuedMinutesAgo);

  beforeAll(async () => {
    if (!unavailable) t = await testLedger(kind, postgresUrl);
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async (ctx) => {
    if (unavailable) {
      ctx.skip(postgres.why);
    }
    await t.truncate();
  });

  it("claims queued jobs oldest first, within each pool's limit, writing an intent for each", async () => {
    await queue(1, "a", 3);
    await queue(2, "a", 5);
    await queue(3, "a", 1);
    await queue(4, "b", 2);
    const intents = await t.ledger.claimLaunches(claim());
    expect(intents.map((i) => [i.jobId, i.runnerName])).toEqual([
      [2, "test-2-1"],
      [1, "test-1-1"],
      [4, "test-4-1"],
    ]);
    expect(intents[0]).toMatchObject({
      pool: "a",
      launchToken: "test-2-1",
      org: "example-org",
      installationId: 77,
    });
    expect(await t.query("select runner_name, state from runners order by id")).toEqual([
      { runner_name: "test-2-1", state: "launching" },
      { runner_name: "test-1-1", state: "launching" },
      { runner_name: "test-4-1", state: "launching" },
    ]);
    expect(await t.ledger.claimLaunches(claim())).toEqual([]);
  });

  it("does not claim jobs that are not queued, or that have a live runner", async () => {
    await queue(1, "b");
    await t.ledger.ingest(
      { id: "w", event: "workflow_job", receivedAt: now },
      jobEvent({ jobId: 2, action: "waiting" }),
      "b",
    );
    const [intent] = await t.ledger.claimLaunches(claim());
    if (!intent) throw new Error("expected a launch for job 1");
    // Its VM launching, then booted and waiting for the job: either way it is the job's runner.
    expect((await t.ledger.claimLaunches(claim())).map((i) => i.jobId)).toEqual([]);
    await t.ledger.recordLaunch(intent.runnerRowId, vm(1));
    expect((await t.ledger.claimLaunches(claim())).map((i) => i.jobId)).toEqual([]);
  });

  it("backs a failed launch off, returns its subnet, and relaunches under a new name", async () => {
    await queue(1, "b");
    await t.ledger.addSubnets([
      { subnetId: "subnet-1", availabilityZone: "eu-west-1a", cidr: "10.0.128.0/28" },
    ]);
    const [first] = await t.ledger.claimLaunches(claim());
    if (!first) throw new Error("expected a launch");
    expect(await t.ledger.leaseSubnet(first.runnerRowId, ["eu-west-1a"], now)).toMatchObject({
      subnetId: "subnet-1",
    });
    await t.ledger.recordLaunchFailure(
      first.runnerRowId,
      "InsufficientInstanceCapacity",
      later(30),
      now,
    );
    expect(await t.query("select runner_id from subnets")).toEqual([{ runner_id: null }]);
    expect(await t.ledger.claimLaunches(claim({ now: later(10) }))).toEqual([]);
    const [second] = await t.ledger.claimLaunches(claim({ now: later(31) }));
    expect(second).toMatchObject({ runnerName: "test-1-2", launchFailures: 1 });
    expect(await t.query("select launch_failures, launch_error from jobs")).toEqual([
      { launch_failures: 1, launch_error: "InsufficientInstanceCapacity" },
    ]);
  });

  it("records a launched VM once, and clears the job's backoff", async () => {
    await queue(1, "b");
    const [intent] = await t.ledger.claimLaunches(claim());
    if (!intent) throw new Error("expected a launch");
    await t.ledger.recordLaunch(intent.runnerRowId, vm(1));
    await t.ledger.recordLaunch(intent.runnerRowId, vm(2));
    await t.ledger.recordLaunchFailure(intent.runnerRowId, "late failure report", later(5), now);
    expect(await t.query("select state, instance_id from runners")).toEqual([
      { state: "running", instance_id: "i-1" },
    ]);
    expect(await t.query("select launched_at, next_launch_at from jobs")).toEqual([
      { launched_at: now, next_launch_at: null },
    ]);
  });

  it("leases each subnet to one runner, prefers zones in order, and keeps a runner's lease", async () => {
    await t.ledger.addSubnets([
      { subnetId: "subnet-a", availabilityZone: "eu-west-1a", cidr: "10.0.128.0/28" },
      { subnetId: "subnet-b", availabilityZone: "eu-west-1b", cidr: "10.0.128.16/28" },
    ]);
    await t.ledger.addSubnets([
      { subnetId: "subnet-a", availabilityZone: "eu-west-1a", cidr: "10.0.128.0/28" },
    ]);
    for (const id of [1, 2, 3]) await queue(id, "b");
    const [r1, r2, r3] = await t.ledger.claimLaunches(claim());
    if (!r1 || !r2 || !r3) throw new Error("expected three launches");
    expect(
      (await t.ledger.leaseSubnet(r1.runnerRowId, ["eu-west-1b", "eu-west-1a"], now))?.subnetId,
    ).toBe("subnet-b");
    expect(
      (await t.ledger.leaseSubnet(r1.runnerRowId, ["eu-west-1b", "eu-west-1a"], now))?.subnetId,
    ).toBe("subnet-b");
    expect(
      (await t.ledger.leaseSubnet(r2.runnerRowId, ["eu-west-1b", "eu-west-1a"], now))?.subnetId,
    ).toBe("subnet-a");
    expect(
      await t.ledger.leaseSubnet(r3.runnerRowId, ["eu-west-1a", "eu-west-1b"], now),
    ).toBeUndefined();
    await t.ledger.releaseSubnet(r1.runnerRowId);
    await t.ledger.releaseSubnet(r1.runnerRowId);
    expect(
      (await t.ledger.leaseSubnet(r3.runnerRowId, ["eu-west-1a", "eu-west-1b"], now))?.subnetId,
    ).toBe("subnet-b");
  });

  it("lists subnets with their lease, and forgets only a subnet no runner holds", async () => {
    await t.ledger.addSubnets([
      { subnetId: "subnet-a", availabilityZone: "eu-west-1a", cidr: "10.0.128.0/28" },
      { subnetId: "subnet-b", availabilityZone: "eu-west-1b", cidr: "10.0.128.16/28" },
    ]);
    await queue(1, "b");
    const [r1] = await t.ledger.claimLaunches(claim());
    if (!r1) throw new Error("expected a launch");
    await t.ledger.leaseSubnet(r1.runnerRowId, ["eu-west-1a"], now);
    const listed = await t.ledger.listSubnets();
    expect(listed).toMatchObject([
      { subnetId: "subnet-a", leased: true, freeSince: null },
      { subnetId: "subnet-b", leased: false, cidr: "10.0.128.16/28" },
    ]);
    expect(listed[1]?.freeSince).toBeInstanceOf(Date);

    expect(await t.ledger.removeSubnet("subnet-a")).toBe(false);
    expect(await t.ledger.removeSubnet("subnet-b")).toBe(true);
    expect(await t.ledger.removeSubnet("subnet-b")).toBe(false);
    expect((await t.ledger.listSubnets()).map((s) => s.subnetId)).toEqual(["subnet-a"]);

    // A released subnet is free from the moment it was given back.
    const before = Date.now();
    await t.ledger.releaseSubnet(r1.runnerRowId);
    const [freed] = await t.ledger.listSubnets();
    expect(freed?.leased).toBe(false);
    expect(freed?.freeSince?.getTime()).toBeGreaterThanOrEqual(before - 5_000);
  });

  const takeRunner = (jobId: number, runnerName: string, labels?: string[]) =>
    t.ledger.ingest(
      { id: nextDelivery(), event: "workflow_job", receivedAt: now },
      jobEvent({
        jobId,
        action: "in_progress",
        startedAt: now,
        runnerId: 9,
        runnerName,
        ...(labels ? { labels } : {}),
      }),
      "b",
    );
  const owners = () =>
    t.query("select runner_name, job_id::int as job from runners order by runner_name");

  it("hands a stolen runner to its taker and the taker's unused runner to the job left behind", async () => {
    await queue(1, "b", 2);
    await queue(2, "b", 1);
    await t.ledger.claimLaunches(claim());
    await takeRunner(2, "test-1-1");
    expect(await owners()).toEqual([
      { runner_name: "test-1-1", job: 2 },
      { runner_name: "test-2-1", job: 1 },
    ]);
    expect(await t.ledger.claimLaunches(claim())).toEqual([]);
  });

  it("does not count a VM another job took toward the job it was launched for", async () => {
    await queue(1, "b", 2);
    await queue(2, "b", 1);
    const intents = await t.ledger.claimLaunches(claim());
    for (const [n, intent] of intents.entries())
      await t.ledger.recordLaunch(intent.runnerRowId, vm(n + 1));
    const launched = () => t.query("select id::int, vms_launched from jobs order by id");
    expect(await launched()).toEqual([
      { id: 1, vms_launched: 1 },
      { id: 2, vms_launched: 1 },
    ]);
    await takeRunner(2, "test-1-1");
    expect(await launched()).toEqual([
      { id: 1, vms_launched: 0 },
      { id: 2, vms_launched: 1 },
    ]);
  });

  it("launches again for the job left behind when the taker's runner cannot serve it", async () => {
    const runLabels = (run: number) => [
      "self-hosted",
      "linux",
      "x64",
      "mayfly-4cpu",
      `mayfly-run-${run}`,
    ];
    for (const [jobId, run] of [
      [1, 100],
      [2, 200],
    ] as const) {
      const createdAt = new Date(now.getTime() - (3 - jobId) * 60_000);
      await t.ledger.ingest(
        { id: nextDelivery(), event: "workflow_job", receivedAt: now },
        jobEvent({ jobId, createdAt, labels: runLabels(run) }),
        "b",
      );
    }
    await t.ledger.claimLaunches(claim());
    await takeRunner(2, "test-1-1", runLabels(200));
    expect(await owners()).toEqual([
      { runner_name: "test-1-1", job: 2 },
      { runner_name: "test-2-1", job: 2 },
    ]);
    expect((await t.ledger.claimLaunches(claim())).map((i) => i.runnerName)).toEqual(["test-1-2"]);
  });

  it("leaves our runners alone when a runner outside the fleet takes a job", async () => {
    await queue(1, "b");
    await t.ledger.claimLaunches(claim());
    await takeRunner(1, "GitHub Actions 5");
    expect(await owners()).toEqual([{ runner_name: "test-1-1", job: 1 }]);
  });

  const finish = (jobId: number, runnerName: string | null, conclusion = "success") =>
    t.ledger.ingest(
      { id: nextDelivery(), event: "workflow_job", receivedAt: now },
      jobEvent({
        jobId,
        action: "completed",
        conclusion,
        startedAt: runnerName ? later(40) : null,
        completedAt: later(580),
        runnerId: runnerName ? 1 : null,
        runnerName,
      }),
      "b",
    );
  const prices = { byType: { "c7i.large": { onDemand: 0.36 } }, hosted: { "2": 0.006 } };
  const usage = () =>
    t.query(
      "select runner_id::int, job_id::int, day::text, instance_seconds::float8 as billed, job_seconds::float8 as ran, estimated_cost_usd::float8 as usd, hosted_equivalent_usd::float8 as hosted from usage",
    );

  it("reaps a completed job's VM, returns its subnet, and writes its usage once", async () => {
    await queue(1, "b");
    await t.ledger.addSubnets([
      { subnetId: "subnet-1", availabilityZone: "eu-west-1a", cidr: "10.0.128.0/28" },
    ]);
    const [intent] = await t.ledger.claimLaunches(claim());
    if (!intent) throw new Error("expected a launch");
    await t.ledger.leaseSubnet(intent.runnerRowId, ["eu-west-1a"], now);
    await t.ledger.recordLaunch(intent.runnerRowId, vm(1));
    expect(await t.ledger.runnersToReap(10, now)).toEqual([]);
    await finish(1, "test-1-1");
    const targets = await t.ledger.runnersToReap(10, now);
    expect(targets).toEqual([
      {
        runnerRowId: intent.runnerRowId,
        instanceId: "i-1",
        runnerId: 1,
        jobId: 1,
        org: "example-org",
        installationId: 77,
        pool: "b",
        repository: "example-org/app",
        ranJob: true,
        terminating: false,
      },
    ]);
    await t.ledger.markTerminating([intent.runnerRowId], now);
    // Asked once: not asked again until the VM outlives the request by a minute.
    expect(await t.ledger.runnersToReap(10, later(59))).toEqual([]);
    expect(await t.ledger.runnersToReap(10, later(61))).toHaveLength(1);
    const gone = [{ instanceId: "i-1", terminatedAt: later(600), reason: null }];
    expect(await t.ledger.recordTerminated(gone, prices)).toBe(1);
    expect(await t.ledger.recordTerminated(gone, prices)).toBe(0);
    expect(await t.ledger.runnersToReap(10, now)).toEqual([]);
    expect(await t.query("select runner_id from subnets")).toEqual([{ runner_id: null }]);
    expect(await usage()).toEqual([
      {
        runner_id: intent.runnerRowId,
        job_id: 1,
        day: "2026-11-23",
        billed: 600,
        ran: 540,
        usd: 0.06,
        hosted: 0.054,
      },
    ]);
  });

  it("reaps the VM of a job cancelled before it started, to be deregistered, and counts it as waste", async () => {
    await queue(1, "b");
    const [intent] = await t.ledger.claimLaunches(claim());
    if (!intent) throw new Error("expected a launch");
    await t.ledger.recordLaunch(intent.runnerRowId, vm(1));
    await finish(1, null, "cancelled");
    expect(await t.ledger.runnersToReap(10, now)).toMatchObject([
      { instanceId: "i-1", runnerId: 1, ranJob: false },
    ]);
    await t.ledger.recordTerminated(
      [{ instanceId: "i-1", terminatedAt: later(30), reason: null }],
      prices,
    );
    expect(await usage()).toEqual([
      {
        runner_id: intent.runnerRowId,
        job_id: null,
        day: "2026-11-23",
        billed: 60,
        ran: null,
        usd: 0.006,
        hosted: 0,
      },
    ]);
  });

  it("leaves a VM whose runner GitHub called busy out of the reaper's rounds until asked again", async () => {
    for (const id of [1, 2]) await queue(id, "b");
    const [one, two] = await t.ledger.claimLaunches(claim());
    if (!one || !two) throw new Error("expected two launches");
    await t.ledger.recordLaunch(one.runnerRowId, vm(1));
    await t.ledger.recordLaunch(two.runnerRowId, vm(2));
    // Both jobs were run by runners outside the fleet; GitHub gave ours other jobs.
    await finish(1, "GitHub Actions 5");
    await finish(2, "GitHub Actions 6");
    await t.ledger.deferDeregistration([one.runnerRowId, two.runnerRowId], later(60));
    expect(await t.ledger.runnersToReap(10, later(59))).toEqual([]);
    expect(await t.ledger.runnersToReap(10, later(60))).toHaveLength(2);
    // The job runner 2 took ends naming it: the ledger rebinds it, and it is reaped at once.
    await queue(3, "b");
    await finish(3, two.runnerName);
    expect(await t.ledger.runnersToReap(10, later(1))).toMatchObject([
      { runnerRowId: two.runnerRowId, jobId: 3, ranJob: true },
    ]);
  });

  it("adds usage up by repository, a cancelled job's unused VM included", async () => {
    for (const id of [1, 2]) await queue(id, "b");
    const intents = await t.ledger.claimLaunches(claim());
    for (const [n, intent] of intents.entries())
      await t.ledger.recordLaunch(intent.runnerRowId, vm(n + 1));
    await finish(1, "test-1-1");
    await finish(2, null, "cancelled");
    const gone = [1, 2].map((n) => ({
      instanceId: `i-${n}`,
      terminatedAt: later(600),
      reason: null,
    }));
    await t.ledger.recordTerminated(gone, prices);
    expect(
      await t.ledger.usageReport({ since: new Date("2026-11-01T00:00:00Z"), by: ["repo"] }),
    ).toEqual([
      {
        key: { repo: "example-org/app" },
        vms: 2,
        jobs: 1,
        instanceSeconds: 1200,
        jobSeconds: 540,
        wasteSeconds: 660,
        estimatedCostUsd: 0.12,
        hostedEquivalentUsd: 0.054,
        unpricedVms: 0,
        interruptedVms: 0,
      },
    ]);
    expect(
      await t.ledger.usageReport({ since: new Date("2026-12-01T00:00:00Z"), by: ["repo"] }),
    ).toEqual([]);
  });

  // GitHub's in_progress and completed can reach the ledger after the VM that ran the job
  // has powered off and been recorded: its usage then waits for the job to name its runner.
  const start = (jobId: number, runnerName: string) =>
    t.ledger.ingest(
      { id: nextDelivery(), event: "workflow_job", receivedAt: now },
      jobEvent({ jobId, action: "in_progress", startedAt: later(40), runnerId: 1, runnerName }),
      "b",
    );
  const ended = (n: number, at = later(600)) =>
    t.ledger.recordTerminated([{ instanceId: `i-${n}`, terminatedAt: at, reason: null }], prices);

  it("counts a job whose in_progress and completed arrive after its VM's usage was written", async () => {
    await queue(1, "b");
    const [intent] = await t.ledger.claimLaunches(claim());
    if (!intent) throw new Error("expected a launch");
    await t.ledger.recordLaunch(intent.runnerRowId, vm(1));
    expect(await ended(1)).toBe(1);
    expect(await usage()).toMatchObject([{ job_id: null, ran: null, hosted: 0 }]);
    await start(1, intent.runnerName);
    expect(await usage()).toMatchObject([{ job_id: 1, ran: null, hosted: 0 }]);
    await finish(1, intent.runnerName);
    // The same figures as when the job's webhooks come before the VM ends (see above).
    expect(await usage()).toEqual([
      {
        runner_id: intent.runnerRowId,
        job_id: 1,
        day: "2026-11-23",
        billed: 600,
        ran: 540,
        usd: 0.06,
        hosted: 0.054,
      },
    ]);
    expect(
      await t.ledger.usageReport({ since: new Date("2026-11-01T00:00:00Z"), by: ["repo"] }),
    ).toMatchObject([{ key: { repo: "example-org/app" }, vms: 1, jobs: 1, jobSeconds: 540 }]);
  });

  it("counts a job toward its own repository when it took, late, a runner launched for another", async () => {
    await queue(1, "b");
    await t.ledger.ingest(
      { id: nextDelivery(), event: "workflow_job", receivedAt: now },
      jobEvent({ jobId: 2, repository: "example-org/site", workflowName: "Deploy" }),
      "b",
    );
    const one = (await t.ledger.claimLaunches(claim())).find((i) => i.jobId === 1);
    if (!one) throw new Error("expected a launch for job 1");
    await t.ledger.recordLaunch(one.runnerRowId, vm(1));
    await ended(1);
    await start(2, one.runnerName);
    await finish(2, one.runnerName);
    expect(
      await t.query(
        "select job_id::int, repository, workflow_name, job_seconds::float8 as ran from usage",
      ),
    ).toEqual([{ job_id: 2, repository: "example-org/site", workflow_name: "Deploy", ran: 540 }]);
    expect(
      await t.ledger.usageReport({ since: new Date("2026-11-01T00:00:00Z"), by: ["repo"] }),
    ).toMatchObject([{ key: { repo: "example-org/site" }, vms: 1, jobs: 1, jobSeconds: 540 }]);
  });

  it("adds the job's seconds when its completed arrives after its VM's usage was written", async () => {
    await queue(1, "b");
    const [intent] = await t.ledger.claimLaunches(claim());
    if (!intent) throw new Error("expected a launch");
    await t.ledger.recordLaunch(intent.runnerRowId, vm(1));
    await start(1, intent.runnerName);
    await ended(1);
    expect(await usage()).toMatchObject([{ job_id: 1, ran: null, hosted: 0 }]);
    await finish(1, intent.runnerName);
    expect(await usage()).toMatchObject([{ job_id: 1, billed: 600, ran: 540, hosted: 0.054 }]);
  });

  it("ignores terminations of instances it does not know", async () => {
    expect(
      await t.ledger.recordTerminated(
        [{ instanceId: "i-stranger", terminatedAt: now, reason: null }],
        prices,
      ),
    ).toBe(0);
    expect(await usage()).toEqual([]);
  });
});

const TWO_REPLICAS = postgres.title("launches with two replicas on one PostgreSQL server");
describe.skipIf(!postgresUrl)(TWO_REPLICAS, () => {
  let t: TestLedger;
  const queue = (jobId: number, pool: string, queuedMinutesAgo = 1) =>
    queueJob(t.ledger, jobId, pool, queuedMinutesAgo);
  beforeAll(async () => {
    t = await testLedger("postgresql", postgresUrl);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("never launches a job twice nor passes a pool's limit with two replicas claiming at once", async () => {
    for (let id = 1; id <= 60; id++) await queue(id, id % 2 ? "a" : "b", id);
    const url = (await t.query<{ db: string }>("select current_database() as db"))[0]?.db;
    const second = await openLedger({ url: postgresUrl.replace(/\/[^/]*$/, `/${url}`) });
    try {
      const limits = claim({
        maxByPool: new Map([
          ["a", 7],
          ["b", 9],
        ]),
        budget: 4,
      });
      const rounds = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? second : t.ledger).claimLaunches(limits)),
      );
      const claimed = rounds.flat();
      expect(new Set(claimed.map((i) => i.jobId)).size).toBe(claimed.length);
      expect(claimed.filter((i) => i.pool === "a")).toHaveLength(7);
      expect(claimed.filter((i) => i.pool === "b")).toHaveLength(9);
    } finally {
      await second.close();
    }
  });

  it("lets one replica at a time lead a task, and the next one once it is done", async () => {
    const url = (await t.query<{ db: string }>("select current_database() as db"))[0]?.db;
    const second = await openLedger({ url: postgresUrl.replace(/\/[^/]*$/, `/${url}`) });
    try {
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started: () => void = () => {};
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const first = t.ledger.asLeader("reconcile", async () => {
        started();
        await held;
        return "first";
      });
      await running;
      expect(await second.asLeader("reconcile", async () => "second")).toEqual({ leader: false });
      expect(await second.asLeader("other-task", async () => "other")).toEqual({
        leader: true,
        result: "other",
      });
      release();
      expect(await first).toEqual({ leader: true, result: "first" });
      expect(await second.asLeader("reconcile", async () => "second")).toEqual({
        leader: true,
        result: "second",
      });
    } finally {
      await second.close();
    }
  });
});
