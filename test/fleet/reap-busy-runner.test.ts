import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { parseFleet } from "../../src/config/load-fleet.js";
import type { JobEvent } from "../../src/core/job.js";
import { type LaunchDeps, launchRunner } from "../../src/fleet/launch-runner.js";
import { reapOnce } from "../../src/fleet/reaper.js";
import { OctokitGitHub } from "../../src/github/octokit-github.js";
import { type SimEc2, startSimEc2 } from "../../src/sim/ec2/sim-ec2.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import { FAST } from "../github/adapter.js";
import { jobEvent, memoryLogger } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";
import { vmGetsAssignment } from "../support/vm-asks.js";

const fleet = parseFleet(
  `
fleet: test
network: { vpcId: vpc-0abc, runnerCidr: 10.0.128.0/17, availabilityZones: [eu-west-1a] }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 5 }
`,
  "test.yaml",
);
const A = 2001;
const B = 2002;
// A runner outside this fleet whose labels fit too (a static self-hosted one, say).
const OTHER_RUNNER = "static-runner-1";
// GitHub's DELETE /orgs/{org}/actions/runners/{runner_id}, not the listing.
const DELETES = /\/actions\/runners\/\d+$/;

/**
 * The acceptance run's sequence (issue 14, item 2), played step by step through the real
 * Octokit and AWS SDK against the simulated GitHub and EC2: runner R launched for job A
 * (registered when its VM asked for its assignment); A taken by another runner and
 * completed; R online and given job B by GitHub; the reaper acting on A's completion
 * before B's `in_progress` has reached the ledger.
 */
describe("the reaper and a runner GitHub gave another job", () => {
  let t: TestLedger;
  let gh: SimGitHub;
  let ec2: SimEc2;
  let deps: LaunchDeps;
  let clock: Date;
  let delivery = 0;
  const later = (seconds: number) => {
    clock = new Date(clock.getTime() + seconds * 1000);
  };

  beforeEach(async () => {
    t = await testLedger("pglite", "");
    gh = await startSimGitHub();
    ec2 = await startSimEc2({
      pendingMs: 0,
      shuttingDownMs: 0,
      subnets: { "subnet-a1": "eu-west-1a", "subnet-a2": "eu-west-1a" },
    });
    clock = new Date();
    const log = memoryLogger();
    deps = {
      runnerEndpoint: "https://mayfly.example.com",
      ledger: t.ledger,
      github: new OctokitGitHub({
        appId: gh.appId,
        privateKey: gh.privateKey,
        baseUrl: gh.url,
        logger: log.logger,
        tuning: FAST,
      }),
      cloud: new Ec2Cloud({
        client: testEc2Client(ec2.url),
        fleet: "test",
        network: fleet.network,
      }),
      fleet,
      logger: log.logger,
      now: () => clock,
      random: () => 0,
    };
    await t.ledger.addSubnets([
      { subnetId: "subnet-a1", availabilityZone: "eu-west-1a", cidr: "10.0.128.0/28" },
      { subnetId: "subnet-a2", availabilityZone: "eu-west-1a", cidr: "10.0.128.16/28" },
    ]);
  });
  afterEach(async () => {
    await gh.stop();
    await ec2.stop();
    await t.close();
  });

  const webhook = (over: Partial<JobEvent>) =>
    t.ledger.ingest(
      { id: `d${++delivery}`, event: "workflow_job", receivedAt: clock },
      jobEvent({ createdAt: new Date(clock.getTime() - 60_000), ...over }),
      "x64",
    );
  const started = (jobId: number, runnerName: string) =>
    webhook({ jobId, action: "in_progress", startedAt: clock, runnerName });
  const completed = (jobId: number, runnerName: string) =>
    webhook({ jobId, action: "completed", completedAt: clock, conclusion: "success", runnerName });
  /**
   * Queues a job, launches its VM and lets the VM ask for its assignment, which registers
   * its runner: returns the runner's name, registration and VM.
   */
  const queueAndLaunch = async (jobId: number) => {
    await webhook({ jobId, createdAt: new Date(clock.getTime() - 60_000 + jobId) });
    const [intent] = await t.ledger.claimLaunches({
      fleet: "test",
      now: clock,
      budget: 1,
      fleetMax: 5,
      maxByPool: new Map([["x64", 5]]),
      maxLaunchesPerJob: 3,
    });
    if (intent === undefined) throw new Error(`expected a launch for job ${jobId}`);
    expect(await launchRunner(intent, deps)).toBe("launched");
    const vm = ec2.instances().find((i) => i.tags["mayfly:runner"] === intent.runnerName);
    if (vm === undefined) throw new Error("expected a VM");
    await vmGetsAssignment(deps, vm.instanceId, new Date(vm.launchedAtMs));
    const registration = gh.runners().find((r) => r.name === intent.runnerName);
    if (registration === undefined) throw new Error("expected a runner");
    return { name: intent.runnerName, id: registration.id, instanceId: vm.instanceId };
  };
  const status = (instanceId: string) => ec2.statusOf(instanceId);
  const liveVms = () => ec2.instances().filter((i) => status(i.instanceId) !== "terminated");
  /** B's end, as GitHub and the runner VM play it: the ephemeral runner goes, the VM powers off. */
  const runnerFinishes = (r: { id: number; instanceId: string }) => {
    gh.removeRunner(r.id);
    ec2.powerOff(r.instanceId);
  };

  /** R launched for A; B queued with its own runner; A run and completed by another runner. */
  async function setTheScene() {
    const r = await queueAndLaunch(A);
    const own = await queueAndLaunch(B);
    await started(A, OTHER_RUNNER);
    await completed(A, OTHER_RUNNER);
    // R comes online, and GitHub gives it the oldest queued job its labels fit: B.
    gh.setRunner(r.id, { status: "online", busy: true });
    return { r, own };
  }

  it("leaves R's VM running B when the reaper acts on A's completion, and reaps everything once B ends", async () => {
    const { r, own } = await setTheScene();

    // The reaper acts on A's completion while B's in_progress is still on its way.
    const round = await reapOnce(deps);
    expect(status(r.instanceId)).toBe("running");
    expect(round).toMatchObject({ terminating: 0, leftBusy: 1 });
    expect(gh.runners().map((x) => x.id)).toContain(r.id);
    expect(gh.requestCount(DELETES)).toBe(1);
    // Not asked again round after round while GitHub says it is busy.
    await reapOnce(deps);
    expect(gh.requestCount(DELETES)).toBe(1);

    // B's in_progress arrives: the ledger binds R to B, and B's own runner is left unused.
    await started(B, r.name);
    expect(await t.query("select runner_name, job_id::int from runners order by id")).toEqual([
      { runner_name: r.name, job_id: B },
      { runner_name: own.name, job_id: B },
    ]);
    await reapOnce(deps);
    expect(status(r.instanceId)).toBe("running");

    // B ends on R, which GitHub removes and whose VM powers off; B's completion reaps the rest.
    later(30);
    const bEnded = Date.now();
    runnerFinishes(r);
    await completed(B, r.name);
    expect(await reapOnce(deps)).toMatchObject({ terminating: 2, deregistered: 1 });
    await reapOnce(deps);
    const rVm = ec2.instances().find((i) => i.instanceId === r.instanceId);
    expect(rVm?.terminatedAtMs).toBeGreaterThanOrEqual(bEnded - 1);
    expect(liveVms()).toEqual([]);
    expect(gh.runners()).toEqual([]);
    expect(await t.query("select state from runners")).toEqual([
      { state: "terminated" },
      { state: "terminated" },
    ]);
    expect(await t.query("select job_id::int from usage order by runner_id")).toEqual([
      { job_id: B },
      { job_id: null },
    ]);
    expect((await t.ledger.listSubnets()).every((s) => !s.leased)).toBe(true);
  });

  it("asks about a repository-level runner on its repository's route, where GitHub has it", async () => {
    // The organisation's route answers 404 for a repository's runner: taken for "gone", it
    // would end R's VM while it runs B.
    deps = {
      ...deps,
      fleet: parseFleet(
        `
fleet: test
network: { vpcId: vpc-0abc, runnerCidr: 10.0.128.0/17, availabilityZones: [eu-west-1a] }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 5, registration: repo }
`,
        "test.yaml",
      ),
    };
    const { r } = await setTheScene();
    expect(gh.runners().find((x) => x.id === r.id)?.repository).toBe("example-org/app");
    expect(await reapOnce(deps)).toMatchObject({ terminating: 0, leftBusy: 1 });
    expect(status(r.instanceId)).toBe("running");
    expect(gh.requestCount(`/repos/example-org/app/actions/runners/${r.id}`)).toBe(1);
    expect(gh.requestCount(/^\/orgs\/[^/]+\/actions\/runners\/\d+$/)).toBe(0);
    // B ends on R; GitHub removes it. A minute on, the repository's route says 404: reaped.
    gh.removeRunner(r.id);
    later(61);
    expect(await reapOnce(deps)).toMatchObject({ terminating: 1 });
    expect(status(r.instanceId)).not.toBe("running");
  });

  it("leaves R's VM when B's in_progress never arrives, and reaps it once GitHub no longer has R", async () => {
    const { r, own } = await setTheScene();
    await reapOnce(deps);
    expect(status(r.instanceId)).toBe("running");

    // B ends on R and GitHub removes R, but its VM hangs on the way down; neither of B's
    // webhooks reaches the ledger.
    gh.removeRunner(r.id);
    later(59);
    await reapOnce(deps);
    expect(gh.requestCount(DELETES)).toBe(1);
    // A minute after GitHub said busy, R is asked about again: 404, so its VM is ended.
    later(2);
    expect(await reapOnce(deps)).toMatchObject({ terminating: 1, leftBusy: 0 });
    expect(gh.requestCount(DELETES)).toBe(2);
    await reapOnce(deps);
    expect(liveVms().map((i) => i.instanceId)).toEqual([own.instanceId]);
    expect(await t.query("select state from runners where runner_name = $1", [r.name])).toEqual([
      { state: "terminated" },
    ]);
  });

  it("ends at once the VM of a runner GitHub no longer has, deregistering the idle one first", async () => {
    const r = await queueAndLaunch(A);
    await completed(A, OTHER_RUNNER);
    gh.setRunner(r.id, { status: "online", busy: false });
    let deregisteredBeforeTerminate: boolean | undefined;
    const cloud = deps.cloud;
    deps = {
      ...deps,
      cloud: new Proxy(cloud, {
        get: (target, key) => {
          const value = Reflect.get(target, key, target);
          if (typeof value !== "function") return value;
          if (key !== "terminate") return value.bind(target);
          return (ids: readonly string[]) => {
            deregisteredBeforeTerminate ??= !gh.runners().some((x) => x.id === r.id);
            return value.call(target, ids);
          };
        },
      }),
    };
    const round = await reapOnce(deps);
    expect(gh.runners()).toEqual([]);
    expect(status(r.instanceId)).not.toBe("running");
    expect(round).toMatchObject({ terminating: 1, deregistered: 1, leftBusy: 0 });
    // Deregistered before the VM was asked to end: GitHub could give it no job in between.
    expect(deregisteredBeforeTerminate).toBe(true);
  });

  it("ends the VM of a runner that ran its job without asking GitHub, in one call for all", async () => {
    const one = await queueAndLaunch(A);
    const two = await queueAndLaunch(B);
    for (const [jobId, r] of [
      [A, one],
      [B, two],
    ] as const) {
      await started(jobId, r.name);
      runnerFinishes(r);
      await completed(jobId, r.name);
    }
    const calls = ec2.calls("TerminateInstances");
    expect(await reapOnce(deps)).toMatchObject({ terminating: 2, deregistered: 0 });
    expect(ec2.calls("TerminateInstances")).toBe(calls + 1);
    expect(gh.requestCount(DELETES)).toBe(0);
  });
});
