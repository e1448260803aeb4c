import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AssignmentAnswer } from "../../src/assignment/assignments.js";
import type { InstanceIdentity } from "../../src/assignment/identity-verifier.js";
import {
  GITHUB_FAILED_RETRY_AFTER_S,
  HOLD_UNRECORDED_MS,
  LedgerAssignments,
  REGISTERING_RETRY_AFTER_S,
  STALE_CLAIM_MS,
} from "../../src/assignment/ledger-assignments.js";
import { parseFleet } from "../../src/config/load-fleet.js";
import { REPEAT_ANSWER_MS, UNRECORDED_LAUNCH_MS } from "../../src/core/assignment-verdict.js";
import { OctokitGitHub } from "../../src/github/octokit-github.js";
import { PoolRunnerGroups } from "../../src/github/pool-runner-groups.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { FAST } from "../github/adapter.js";
import { jobEvent, memoryLogger } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

const fleet = parseFleet(
  `
fleet: asg
network: { vpcId: vpc-0511, runnerCidr: 10.0.128.0/24, availabilityZones: [eu-west-1a] }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 5 }
`,
  "asg.yaml",
);
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";

describe("the assignment service", () => {
  let t: TestLedger;
  let gh: SimGitHub;
  let clock: Date;
  let log: ReturnType<typeof memoryLogger>;
  let delivery = 0;
  // What the simulated GitHub answers instead, per request; undefined: the real answer.
  let githubFault: ((r: { method: string; path: string }) => number | undefined) | undefined;
  const jitWrites = () => gh.requestCount(/\/generate-jitconfig$/);

  beforeEach(async () => {
    t = await testLedger("pglite", "");
    githubFault = undefined;
    gh = await startSimGitHub({ fault: (r) => githubFault?.(r) });
    log = memoryLogger();
    clock = new Date();
  });
  afterEach(async () => {
    await gh.stop();
    await t.close();
  });

  const ghClient = () =>
    new OctokitGitHub({
      appId: gh.appId,
      privateKey: gh.privateKey,
      baseUrl: gh.url,
      logger: memoryLogger().logger,
      tuning: FAST,
    });
  /** One replica's service: its own GitHub client and its own memory. */
  const replica = (holdUnrecordedMs = 300, pools = fleet.pools) => {
    const github = ghClient();
    return new LedgerAssignments({
      holdUnrecordedMs,
      ledger: t.ledger,
      github,
      pools,
      runnerGroups: new PoolRunnerGroups({ github, fleet: fleet.fleet, pools, logger: log.logger }),
      fleet: { accountId: ACCOUNT, region: REGION },
      now: () => clock,
      logger: log.logger,
    });
  };
  const identity = (
    instanceId: string,
    over: Partial<InstanceIdentity> = {},
  ): InstanceIdentity => ({
    accountId: ACCOUNT,
    region: REGION,
    instanceId,
    pendingTime: clock,
    ...over,
  });
  const later = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };
  const ingest = (over: Parameters<typeof jobEvent>[0]) =>
    t.ledger.ingest(
      { id: `d${++delivery}`, event: "workflow_job", receivedAt: clock },
      jobEvent({ createdAt: clock, ...over }),
      "x64",
    );
  /** A queued job and its VM launched, not registered: what the launcher leaves now. */
  const launched = async (jobId: number) => {
    await ingest({ jobId });
    const [intent] = await t.ledger.claimLaunches({
      fleet: "asg",
      now: clock,
      budget: 10,
      fleetMax: 5,
      maxByPool: new Map([["x64", 5]]),
      maxLaunchesPerJob: 3,
    });
    if (intent === undefined) throw new Error(`job ${jobId} gave no launch intent`);
    await t.ledger.recordLaunch(intent.runnerRowId, {
      instanceId: `i-${jobId}`,
      instanceType: "c7i.xlarge",
      market: "on-demand",
      availabilityZone: "eu-west-1a",
      runnerId: null,
      launchedAt: clock,
    });
    return intent;
  };
  const jitOf = (a: AssignmentAnswer) => {
    if (a.kind !== "assigned") throw new Error(`expected a JIT config, got ${JSON.stringify(a)}`);
    return a.jitConfig.reveal();
  };

  it("registers the runner of a pool with repositories in its own group, which admits only them", async () => {
    const pools = fleet.pools.map((p) => ({ ...p, repositories: ["example-org/app"] }));
    await launched(1);
    jitOf(await replica(300, pools).answer(identity("i-1")));
    const [runner] = gh.runners();
    const group = gh.runnerGroup("example-org", runner?.runnerGroupId ?? 0);
    expect(group).toMatchObject({ name: "mayfly-asg-x64", visibility: "selected" });
    expect([...(group?.repositories ?? [])]).toEqual(["example-org/app"]);
  });

  it("registers the runner when its VM first asks, with the job's labels, and keeps no secret", async () => {
    const intent = await launched(1);
    expect(gh.runners()).toEqual([]);
    const jit = jitOf(await replica().answer(identity("i-1")));
    expect(gh.runners()).toMatchObject([
      { name: intent.runnerName, labels: expect.arrayContaining(["mayfly-4cpu"]) },
    ]);
    const [row] = await t.query("select runner_id, assigned_at from runners");
    expect(row).toMatchObject({ runner_id: gh.runners()[0]?.id, assigned_at: clock });
    const dump = JSON.stringify(
      await Promise.all(
        ["jobs", "runners", "deliveries", "usage", "subnets"].map((table) =>
          t.query(`select * from ${table}`),
        ),
      ),
    );
    expect(jit.length).toBeGreaterThan(20);
    expect(dump).not.toContain(jit);
    expect(log.lines()).not.toContain(jit);
  });

  it("answers a retry after a lost 200 the same, without a second registration", async () => {
    await launched(2);
    const service = replica();
    const first = jitOf(await service.answer(identity("i-2")));
    later(REPEAT_ANSWER_MS - 1000);
    expect(jitOf(await service.answer(identity("i-2")))).toBe(first);
    expect(jitWrites()).toBe(1);
    // Past the repeat window the answer is spent.
    later(2000);
    expect(await service.answer(identity("i-2"))).toEqual({
      kind: "gone",
      reason: "answered-long-ago",
    });
  });

  it("registers once for concurrent asks of one VM", async () => {
    await launched(3);
    const service = replica();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => service.answer(identity("i-3"))),
    );
    expect(new Set(answers.map(jitOf)).size).toBe(1);
    expect(jitWrites()).toBe(1);
    expect(gh.runners()).toHaveLength(1);
  });

  it("tells a VM whose runner another replica is registering to ask again shortly", async () => {
    const { runnerRowId } = await launched(4);
    expect(await t.ledger.claimAssignment(runnerRowId, clock, new Date(0))).toBe(true);
    expect(await replica().answer(identity("i-4"))).toEqual({
      kind: "wait",
      retryAfterSeconds: REGISTERING_RETRY_AFTER_S,
    });
    expect(jitWrites()).toBe(0);
    // A claimer that died gives its claim up by ageing.
    later(STALE_CLAIM_MS + 1);
    jitOf(await replica().answer(identity("i-4")));
  });

  it("registers afresh after a claimer that died between GitHub's answer and the ledger's record", async () => {
    const intent = await launched(7);
    expect(await t.ledger.claimAssignment(intent.runnerRowId, clock, new Date(0))).toBe(true);
    // The dead claimer's registration: GitHub has it, the ledger never heard of it.
    const orphan = await ghClient().generateJitConfig({
      installationId: 77,
      org: "example-org",
      name: intent.runnerName,
      runnerGroupId: 1,
      labels: ["mayfly-4cpu"],
    });
    later(STALE_CLAIM_MS + 1);
    const jit = jitOf(await replica().answer(identity("i-7")));
    expect(jit).not.toBe(orphan.jitConfig.reveal());
    // GitHub refused the name once (409); the orphan went, and one runner of that name is left.
    expect(gh.runners().map((r) => r.name)).toEqual([intent.runnerName]);
    expect(gh.runners()[0]?.id).not.toBe(orphan.runnerId);
    expect(await t.query("select runner_id from runners")).toEqual([
      { runner_id: gh.runners()[0]?.id },
    ]);
  });

  it("on another replica, after a lost 200, replaces the first registration with a new one", async () => {
    const intent = await launched(5);
    const first = jitOf(await replica().answer(identity("i-5")));
    const firstId = gh.runners()[0]?.id;
    later(1000);
    const second = jitOf(await replica().answer(identity("i-5")));
    expect(second).not.toBe(first);
    expect(gh.runners()).toHaveLength(1);
    expect(gh.runners()[0]).toMatchObject({ name: intent.runnerName });
    expect(gh.runners()[0]?.id).not.toBe(firstId);
    expect(await t.query("select runner_id from runners")).toEqual([
      { runner_id: gh.runners()[0]?.id },
    ]);
  });

  it("refuses a re-issue once GitHub says the first runner is running a job", async () => {
    await launched(6);
    jitOf(await replica().answer(identity("i-6")));
    const [runner] = gh.runners();
    if (runner === undefined) throw new Error("expected a registration");
    // It started before its in_progress reached us: GitHub's 422 says so.
    gh.setRunner(runner.id, { status: "online", busy: true });
    later(1000);
    expect(await replica().answer(identity("i-6"))).toEqual({
      kind: "gone",
      reason: "runner-started",
    });
    expect(gh.runners().map((r) => r.id)).toEqual([runner.id]);
  });

  it("refuses a replay after the runner started, even within the repeat window", async () => {
    const intent = await launched(7);
    const service = replica();
    jitOf(await service.answer(identity("i-7")));
    const runnerId = gh.runners()[0]?.id ?? null;
    await ingest({ jobId: 7, action: "in_progress", runnerId, runnerName: intent.runnerName });
    later(1000);
    expect(await service.answer(identity("i-7"))).toEqual({
      kind: "gone",
      reason: "runner-started",
    });
    expect(jitWrites()).toBe(1);
  });

  it("tells the VM to ask again when GitHub cannot register now, and registers on the next ask", async () => {
    await launched(8);
    githubFault = (r) => (r.path.endsWith("/generate-jitconfig") ? 500 : undefined);
    expect(await replica().answer(identity("i-8"))).toEqual({
      kind: "wait",
      retryAfterSeconds: GITHUB_FAILED_RETRY_AFTER_S,
    });
    expect(gh.runners()).toEqual([]);
    githubFault = undefined;
    later(5000);
    jitOf(await replica().answer(identity("i-8")));
    expect(gh.runners()).toHaveLength(1);
  });

  it("retires a VM whose job ended before it asked", async () => {
    await launched(9);
    await ingest({ jobId: 9, action: "completed", conclusion: "cancelled" });
    expect(await replica().answer(identity("i-9"))).toEqual({ kind: "gone", reason: "retired" });
    expect(jitWrites()).toBe(0);
  });

  it("holds the ask of a young instance until its launch is recorded, and answers it then", async () => {
    const service = replica(HOLD_UNRECORDED_MS);
    const asked = service.answer(identity("i-20"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const intent = await launched(20);
    expect(jitOf(await asked).length).toBeGreaterThan(20);
    expect(gh.runners().map((r) => r.name)).toEqual([intent.runnerName]);
  });

  it("waits for a young instance the ledger has not recorded, and refuses an old one", async () => {
    const service = replica();
    expect(await service.answer(identity("i-404"))).toMatchObject({ kind: "wait" });
    const old = new Date(clock.getTime() - UNRECORDED_LAUNCH_MS - 1000);
    expect(await service.answer(identity("i-404", { pendingTime: old }))).toEqual({
      kind: "refuse",
      reason: "unknown-instance",
    });
    await launched(10);
    expect(await service.answer(identity("i-10", { accountId: "210987654321" }))).toEqual({
      kind: "refuse",
      reason: "other-account",
    });
    expect(jitWrites()).toBe(0);
  });
});
