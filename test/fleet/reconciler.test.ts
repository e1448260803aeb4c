import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { parseFleet } from "../../src/config/load-fleet.js";
import { type LaunchDeps, launchRunner } from "../../src/fleet/launch-runner.js";
import { reapOnce } from "../../src/fleet/reaper.js";
import { formatReconcileReport } from "../../src/fleet/reconcile-report.js";
import {
  DEFAULT_RECONCILER,
  newReconcilerState,
  type ReconcilerOptions,
  reconcileOnce,
  reconcilerOptionsOf,
} from "../../src/fleet/reconciler.js";
import { OctokitGitHub } from "../../src/github/octokit-github.js";
import { prometheusMetrics } from "../../src/metrics/prometheus-metrics.js";
import { type SimEc2, startSimEc2 } from "../../src/sim/ec2/sim-ec2.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { jobPayload } from "../../src/sim/world/job-payload.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import { FAST } from "../github/adapter.js";
import { jobEvent, memoryLogger } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";
import { vmAsks, vmGetsAssignment } from "../support/vm-asks.js";

const fleet = parseFleet(
  `
fleet: rec
network: { vpcId: vpc-0511, runnerCidr: 10.0.128.0/24, availabilityZones: [eu-west-1a] }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 5, idleTimeout: 5m }
`,
  "rec.yaml",
);
const OPTIONS: ReconcilerOptions = { ...DEFAULT_RECONCILER, launchGraceSeconds: 60 };
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
// GitHub's DELETE /orgs/{org}/actions/runners/{runner_id}, not the listing.
const DELETES = /\/actions\/runners\/\d+$/;

describe("the reconciler", () => {
  let t: TestLedger;
  let gh: SimGitHub;
  let ec2: SimEc2;
  let deps: LaunchDeps;
  let clock: Date;
  let delivery = 0;
  let log: ReturnType<typeof memoryLogger>;
  // What the simulated GitHub answers instead, per request; undefined: the real answer.
  let githubFault: ((r: { method: string; path: string }) => number | undefined) | undefined;
  const later = (seconds: number) => {
    clock = new Date(clock.getTime() + seconds * 1000);
  };

  beforeEach(async () => {
    t = await testLedger("pglite", "");
    githubFault = undefined;
    gh = await startSimGitHub({ fault: (r) => githubFault?.(r) });
    log = memoryLogger();
    ec2 = await startSimEc2({ pendingMs: 0, shuttingDownMs: 0, vpcId: "vpc-0511" });
    clock = new Date();
    deps = {
      runnerEndpoint: "https://mayfly.example.com",
      ledger: t.ledger,
      github: new OctokitGitHub({
        appId: gh.appId,
        privateKey: gh.privateKey,
        baseUrl: gh.url,
        logger: memoryLogger().logger,
        tuning: FAST,
      }),
      cloud: new Ec2Cloud({ client: testEc2Client(ec2.url), fleet: "rec", network: fleet.network }),
      fleet,
      logger: log.logger,
      now: () => clock,
      random: () => 0,
    };
    await t.ledger.addSubnets([
      { subnetId: "subnet-r1", availabilityZone: "eu-west-1a", cidr: "10.0.128.0/28" },
      { subnetId: "subnet-r2", availabilityZone: "eu-west-1a", cidr: "10.0.128.16/28" },
    ]);
  });
  afterEach(async () => {
    await gh.stop();
    await ec2.stop();
    await t.close();
  });

  const queue = (jobId: number) =>
    t.ledger.ingest(
      { id: `d${++delivery}`, event: "workflow_job", receivedAt: clock },
      jobEvent({ jobId, createdAt: clock }),
      "x64",
    );
  const claim = () =>
    t.ledger.claimLaunches({
      fleet: "rec",
      now: clock,
      budget: 10,
      fleetMax: 5,
      maxByPool: new Map([["x64", 5]]),
      maxLaunchesPerJob: 3,
    });
  const pass = (state = newReconcilerState(clock)) => reconcileOnce(deps, OPTIONS, state);
  const live = () => ec2.instances().filter((i) => ec2.statusOf(i.instanceId) !== "terminated");

  it("terminates a VM of ours that the ledger does not know, once past the launch grace", async () => {
    ec2.seed(1, { "mayfly:fleet": "rec", "mayfly:runner": "rec-999-1" }, "subnet-r2");
    expect((await pass()).plan?.terminate).toEqual([]);
    later(61);
    expect((await pass()).plan?.terminate).toMatchObject([{ reason: "orphan" }]);
    expect(live()).toEqual([]);
  });

  it("leaves a VM tagged with the fleet in a subnet that is not one of its runner subnets", async () => {
    // Anyone allowed ec2:CreateTags can put the fleet's tag on their own instance.
    const [theirs] = ec2.seed(1, { "mayfly:fleet": "rec", "mayfly:runner": "rec-998-1" });
    later(3600);
    expect((await pass()).plan?.terminate).toEqual([]);
    expect(ec2.calls("TerminateInstances")).toBe(0);
    expect(ec2.statusOf(theirs?.instanceId ?? "")).toBe("running");
  });

  it("repairs a launch cut short before RunInstances: the lease returns, the registration goes, the job launches again", async () => {
    await queue(1);
    const [intent] = await claim();
    if (!intent) throw new Error("expected a launch");
    // The crash: a subnet leased and a runner registered, then nothing.
    await t.ledger.leaseSubnet(intent.runnerRowId, ["eu-west-1a"], clock);
    await deps.github.generateJitConfig({
      installationId: 77,
      org: "example-org",
      name: intent.runnerName,
      runnerGroupId: 1,
      labels: ["mayfly-4cpu"],
    });
    expect(await claim()).toEqual([]);
    later(61);
    const first = await pass();
    expect(first.plan?.abandonLaunch).toMatchObject([{ runnerRowId: intent.runnerRowId }]);
    await pass();
    expect(gh.runners()).toEqual([]);
    expect((await t.ledger.listSubnets()).every((s) => !s.leased)).toBe(true);
    expect((await claim()).map((i) => i.runnerName)).toEqual(["rec-1-2"]);
  });

  it("repairs a launch cut short after RunInstances: the VM, which can get no assignment, is ended at its boot timeout as never-asked and the job launched again", async () => {
    await queue(2);
    const [intent] = await claim();
    if (!intent) throw new Error("expected a launch");
    await t.ledger.leaseSubnet(intent.runnerRowId, ["eu-west-1a"], clock);
    // The VM started, but the controller died before writing it down.
    const launched = await deps.cloud.launch(
      {
        pool: "x64",
        jobId: 2,
        runnerName: intent.runnerName,
        image: "ami-0123456789abcdef0",
        instanceType: "c7i.xlarge",
        market: "on-demand",
        subnetId: "subnet-r1",
        diskGiB: 30,
        userData: "#cloud-config\n",
      },
      "token-2",
    );
    const vm = ec2.instances().find((i) => i.instanceId === launched.instanceId);
    if (!vm) throw new Error("expected a VM");
    clock = new Date(vm.launchedAtMs);
    // It boots and asks, but the ledger has no launch for it: it is told to wait, never
    // registered, so it never counts as having asked.
    expect(await vmAsks(deps, vm.instanceId, new Date(vm.launchedAtMs))).toMatchObject({
      kind: "wait",
    });
    const bootTimeout = fleet.pools[0]?.bootTimeout ?? Number.NaN;
    expect(bootTimeout).toBe(180);
    later(bootTimeout);
    expect((await pass()).plan?.terminate).toEqual([]);
    later(1);
    const report = await pass();
    expect(report.plan?.terminate).toMatchObject([
      { instanceId: vm.instanceId, reason: "never-asked", ageSeconds: 181, deregisterFirst: null },
    ]);
    expect(formatReconcileReport(report)).toContain(`terminate ${vm.instanceId}: never-asked`);
    await pass();
    expect(live()).toEqual([]);
    expect(gh.runners()).toEqual([]);
    expect(await t.query("select state from runners")).toEqual([{ state: "terminated" }]);
    expect((await t.ledger.listSubnets()).every((s) => !s.leased)).toBe(true);
    expect((await claim()).map((i) => i.runnerName)).toEqual(["rec-2-2"]);
  });

  it("ends a launched VM that never asks for its assignment at its pool's bootTimeout, asking GitHub nothing, and launches its job again at once", async () => {
    const booted = parseFleet(
      `
fleet: rec
network: { vpcId: vpc-0511, runnerCidr: 10.0.128.0/24, availabilityZones: [eu-west-1a] }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 5, idleTimeout: 5m, bootTimeout: 90s }
`,
      "rec.yaml",
    );
    deps = { ...deps, fleet: booted };
    await queue(12);
    gh.addJob({ id: 12, repository: "example-org/app", status: "queued" });
    const [intent] = await claim();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");
    const [vm] = ec2.instances();
    if (!vm) throw new Error("expected a VM");
    // The VM never asks (the sim EC2 boots nothing). Judged from EC2's launch time.
    clock = new Date(vm.launchedAtMs);
    later(89);
    expect((await pass()).plan?.terminate).toEqual([]);
    // At the boot timeout itself: only strictly past a timeout is a VM judged.
    later(1);
    expect((await pass()).plan?.terminate).toEqual([]);
    expect(live()).toHaveLength(1);
    later(1);
    const { plan } = await pass();
    expect(plan?.terminate).toEqual([
      {
        instanceId: vm.instanceId,
        runnerRowId: intent.runnerRowId,
        reason: "never-asked",
        ageSeconds: 91,
        deregisterFirst: null,
      },
    ]);
    expect(plan?.relaunchCount).toBe(1);
    expect(live()).toEqual([]);
    // No runner was ever registered for it, and GitHub is not asked to delete one.
    expect(gh.requestTimes("DELETE", DELETES)).toEqual([]);
    expect(gh.requestCount(GENERATE_JIT)).toBe(0);
    expect(gh.runners()).toEqual([]);
    // No second pass, no reaper round: the job is launched again at once.
    const [again] = await claim();
    expect(again?.runnerName).toBe("rec-12-2");
    if (!again) throw new Error("expected a relaunch");
    expect(await launchRunner(again, deps)).toBe("launched");
    expect(live().map((i) => i.tags["mayfly:runner"])).toEqual(["rec-12-2"]);
  });

  /**
   * A launched job whose VM asked for its assignment (so its runner is registered) but whose
   * runner never took it: GitHub may have given that runner another job.
   */
  const launchedIdle = async (jobId: number) => {
    await queue(jobId);
    const [intent] = await claim();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");
    const vm = ec2.instances().find((i) => i.tags["mayfly:runner"] === intent.runnerName);
    if (!vm) throw new Error("expected a VM");
    await vmGetsAssignment(deps, vm.instanceId, new Date(vm.launchedAtMs));
    const runner = gh.runners().find((r) => r.name === intent.runnerName);
    if (!runner) throw new Error("expected a registration");
    return runner;
  };

  it("leaves an idle VM whose runner GitHub lists as busy, and ends it once GitHub no longer has the runner", async () => {
    const runner = await launchedIdle(6);
    // GitHub gave the runner another job; that job's in_progress never reached us.
    gh.setRunner(runner.id, { status: "online", busy: true });
    later(5 * 60 + 61);
    expect((await pass()).plan?.terminate).toEqual([]);
    expect(live()).toHaveLength(1);
    expect(gh.runners()).toHaveLength(1);
    // That job ended; GitHub removed the ephemeral runner, whose VM is now idle again.
    gh.removeRunner(runner.id);
    expect((await pass()).plan?.terminate).toMatchObject([
      { reason: "idle-past-timeout", deregisterFirst: runner.id },
    ]);
    expect(live()).toEqual([]);
  });

  it("deregisters an idle VM's runner before ending the VM", async () => {
    const runner = await launchedIdle(7);
    gh.setRunner(runner.id, { status: "online", busy: false });
    later(5 * 60 + 61);
    expect((await pass()).plan?.terminate).toMatchObject([
      { reason: "idle-past-timeout", deregisterFirst: runner.id },
    ]);
    expect(gh.runners()).toEqual([]);
    expect(live()).toEqual([]);
  });

  it("leaves the VM when GitHub hands its idle runner a job between the listing and the deregistration", async () => {
    const runner = await launchedIdle(8);
    gh.setRunner(runner.id, { status: "online", busy: false });
    const real = deps.github;
    const racing: (typeof real)["deleteRunner"] = (...args) => {
      gh.setRunner(runner.id, { busy: true });
      return real.deleteRunner(...args);
    };
    deps = {
      ...deps,
      github: new Proxy(real, {
        get: (target, key) => {
          if (key === "deleteRunner") return racing;
          const value = Reflect.get(target, key, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
    };
    later(5 * 60 + 61);
    expect((await pass()).plan?.terminate).toMatchObject([{ deregisterFirst: runner.id }]);
    expect(live()).toHaveLength(1);
    expect(gh.runners()).toHaveLength(1);
    expect(await t.query("select state from runners")).toEqual([{ state: "running" }]);
  });

  it("asks GitHub before ending a VM whose runner a paged listing missed: registrations removed between pages shift the rest", async () => {
    await t.ledger.addSubnets([
      { subnetId: "subnet-r3", availabilityZone: "eu-west-1a", cidr: "10.0.128.32/28" },
    ]);
    const gone = await launchedIdle(21);
    const busy = await launchedIdle(22);
    // One registration per page: page 1 holds the first runner, page 2 the second.
    deps = {
      ...deps,
      github: new OctokitGitHub({
        appId: gh.appId,
        privateKey: gh.privateKey,
        baseUrl: gh.url,
        logger: memoryLogger().logger,
        tuning: { ...FAST, pageSize: 1 },
      }),
    };
    gh.setRunner(busy.id, { status: "online", busy: true });
    let listings = 0;
    githubFault = (r) => {
      // Between the pages GitHub removes the first runner (its job ended), so the second
      // moves up to page 1 and page 2 comes back empty: the listing never shows it.
      if (r.method === "GET" && r.path.endsWith("/actions/runners") && ++listings === 2)
        gh.removeRunner(gone.id);
      return undefined;
    };
    later(5 * 60 + 61);
    const plan = (await pass()).plan;
    expect(listings).toBe(2);
    // GitHub was asked about both: the busy one answered 422 and keeps its VM (its job is
    // running there); the removed one answered 404 and its VM ended.
    expect(plan?.terminate).toMatchObject([
      { reason: "idle-past-timeout", deregisterFirst: gone.id },
      { reason: "idle-past-timeout", deregisterFirst: busy.id },
    ]);
    expect(live()).toHaveLength(1);
    expect(gh.runners().map((r) => r.id)).toEqual([busy.id]);
    expect(await t.query("select runner_name, state from runners order by id")).toEqual([
      { runner_name: gone.name, state: "terminating" },
      { runner_name: busy.name, state: "running" },
    ]);
  });

  it("closes a queued job GitHub has finished, so its VM is reaped", async () => {
    await queue(3);
    gh.addJob({
      id: 3,
      repository: "example-org/app",
      status: "completed",
      conclusion: "cancelled",
    });
    later(OPTIONS.jobCheckAfterSeconds + 1);
    expect((await pass()).jobsClosed).toBe(1);
    expect((await t.ledger.getJob(3))?.state).toBe("completed");
    expect((await pass()).jobsClosed).toBe(0);
  });

  it("gives up on a job whose launches keep failing, and says why", async () => {
    await queue(4);
    for (let attempt = 0; attempt < OPTIONS.maxLaunchFailures; attempt++) {
      const [intent] = await claim();
      if (!intent) throw new Error("expected a launch");
      await t.ledger.recordLaunchFailure(intent.runnerRowId, "InvalidAMIID.NotFound", clock, clock);
    }
    expect((await pass()).plan?.giveUp).toMatchObject([{ jobId: 4 }]);
    expect(await claim()).toEqual([]);
    expect(await t.query("select launch_error from jobs")).toEqual([
      { launch_error: `gave up after ${OPTIONS.maxLaunchFailures} failed launches` },
    ]);
  });

  it("plans without acting in a dry run", async () => {
    ec2.seed(1, { "mayfly:fleet": "rec" }, "subnet-r2");
    later(61);
    const report = await reconcileOnce(deps, OPTIONS, newReconcilerState(clock), true);
    expect(report.plan?.terminate).toHaveLength(1);
    expect(live()).toHaveLength(1);
  });

  it("launches intent-first: a real launch leaves nothing for the reconciler to repair", async () => {
    await queue(5);
    const [intent] = await claim();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");
    later(61);
    const { plan } = await pass();
    expect([
      plan?.terminate,
      plan?.abandonLaunch,
      plan?.deleteRunners,
      plan?.releaseSubnets,
    ]).toEqual([[], [], [], []]);
  });

  describe("in phases that fail alone", () => {
    const LABELS = ["self-hosted", "linux", "mayfly-4cpu"];
    /** The repairs every pass below should make: an orphan VM and an offline registration. */
    const arrangeRepairs = async () => {
      ec2.seed(1, { "mayfly:fleet": "rec", "mayfly:runner": "rec-999-1" }, "subnet-r2");
      await deps.github.generateJitConfig({
        installationId: 77,
        org: "example-org",
        name: "rec-998-1",
        runnerGroupId: 1,
        labels: ["mayfly-4cpu"],
      });
      later(61);
    };
    const repaired = () => ({
      liveVms: live().length,
      registrations: gh.runners().map((r) => r.name),
    });
    /** A `queued` delivery GitHub logged but never got answered (the webhook was lost). */
    const logQueued = (jobId: number, labels = LABELS) => {
      const job = gh.addJob({ id: jobId, repository: "example-org/app", labels });
      return gh.recordDelivery("workflow_job", jobPayload("queued", job, 77));
    };
    const payloadFetches = () => gh.requestCount(/^\/app\/hook\/deliveries\/\d+$/);

    it("skips a poisoned delivery, serves the lost job logged after it, and still makes every other repair", async () => {
      await queue(1); // a job of installation 77, so its registrations are listed
      await arrangeRepairs();
      const poisoned = logQueued(6, [...LABELS, "mayfly-run-nul\u0000byte"]);
      logQueued(7);

      const report = await pass();

      expect(report.failed).toEqual([]);
      expect(report.recovered).toMatchObject({ fetched: 2, recorded: 1, skipped: 1 });
      expect(repaired()).toEqual({ liveVms: 0, registrations: [] });
      expect(await t.query("select id, reason from skipped_deliveries")).toEqual([
        { id: poisoned.guid, reason: "PAYLOAD_INVALID" },
      ]);
      expect(await t.ledger.getJob(6)).toBeUndefined();
      // The lost job is served: the dispatcher claims it and its runner launches.
      const intents = await claim();
      const lost = intents.find((i) => i.jobId === 7);
      if (lost === undefined) throw new Error("expected a launch for the lost job");
      expect(await launchRunner(lost, deps)).toBe("launched");
      // The poisoned delivery is not fetched again, by this state or a fresh one.
      const fetched = payloadFetches();
      expect((await pass()).failed).toEqual([]);
      expect((await pass(newReconcilerState(clock))).failed).toEqual([]);
      expect(payloadFetches()).toBe(fetched);
    });

    it("repairs VMs and registrations when recovery fails, and says so in the log and the metrics", async () => {
      const { metrics, registry } = prometheusMetrics(t.ledger);
      deps = { ...deps, metrics };
      await queue(1);
      await arrangeRepairs();
      logQueued(7);
      githubFault = (r) => (r.path === "/app/hook/deliveries" ? 503 : undefined);

      const report = await pass();

      expect(report.failed).toEqual(["recovery"]);
      expect(report.recovered).toBeNull();
      expect(repaired()).toEqual({ liveVms: 0, registrations: [] });
      expect(log.lines()).toMatch(/"phase":"recovery".*"msg":"reconcile phase failed"/);
      const text = await registry.metrics();
      expect(text).toContain('mayfly_reconcile_failures_total{phase="recovery"} 1');
      // The next pass, with GitHub's log back, recovers the lost job.
      githubFault = undefined;
      expect(await pass()).toMatchObject({ failed: [], recovered: { recorded: 1 } });
      expect(await t.ledger.getJob(7)).toMatchObject({ state: "queued" });
    });

    it("deletes registrations and recovers deliveries when the VM repairs fail", async () => {
      await queue(1);
      await arrangeRepairs();
      logQueued(7);
      const cloud = deps.cloud;
      deps = {
        ...deps,
        cloud: new Proxy(cloud, {
          get(target, name) {
            if (name === "terminate") return () => Promise.reject(new Error("EC2 is down"));
            const value = Reflect.get(target, name);
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
      };

      const report = await pass();

      expect(report.failed).toEqual(["vm-repairs"]);
      expect(repaired()).toEqual({ liveVms: 1, registrations: [] });
      expect(await t.ledger.getJob(7)).toMatchObject({ state: "queued" });
      expect(log.lines()).toMatch(/"phase":"vm-repairs".*"msg":"reconcile phase failed"/);
    });
  });
  it("ends a VM that never took its job at idleTimeout plus the fleet's launchGrace, and its job is claimable in the same pass", async () => {
    const graced = parseFleet(
      `
fleet: rec
network: { vpcId: vpc-0511, runnerCidr: 10.0.128.0/24, availabilityZones: [eu-west-1a] }
limits: { launchGrace: 15s }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 5, idleTimeout: 20s }
`,
      "rec.yaml",
    );
    const options = reconcilerOptionsOf(graced);
    expect(options.launchGraceSeconds).toBe(15);
    deps = { ...deps, fleet: graced };
    await queue(7);
    gh.addJob({ id: 7, repository: "example-org/app", status: "queued" });
    const [intent] = await claim();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");
    // Its runner never comes online: the sim EC2 boots no runner. Judged from EC2's launch time.
    clock = new Date(ec2.instances()[0]?.launchedAtMs ?? Number.NaN);
    later(20 + 15);
    expect((await reconcileOnce(deps, options, newReconcilerState(clock))).plan?.terminate).toEqual(
      [],
    );
    later(1);
    const { plan } = await reconcileOnce(deps, options, newReconcilerState(clock));
    expect(plan?.terminate).toMatchObject([{ reason: "idle-past-timeout", ageSeconds: 36 }]);
    expect(plan?.relaunchCount).toBe(1);
    // No second pass, no reaper round: the dispatcher may launch again at once.
    expect((await claim()).map((i) => i.runnerName)).toEqual(["rec-7-2"]);
  });

  it("gives up on a job after maxLaunchesPerJob VMs that never ran it, and says why", async () => {
    const { metrics, registry } = prometheusMetrics(t.ledger);
    deps = { ...deps, metrics };
    await queue(8);
    for (let n = 1; n <= OPTIONS.maxLaunchesPerJob; n++) {
      const [intent] = await claim();
      if (!intent) throw new Error(`expected launch ${n}`);
      await t.ledger.recordLaunch(intent.runnerRowId, {
        instanceId: `i-8-${n}`,
        instanceType: "c7i.xlarge",
        market: "on-demand",
        availabilityZone: "eu-west-1a",
        runnerId: 800 + n,
        launchedAt: clock,
      });
      // The VM idled out and powered itself off: GitHub never gave its runner the job.
      await t.ledger.recordTerminated(
        [{ instanceId: `i-8-${n}`, terminatedAt: clock, reason: null }],
        {
          byType: {},
          hosted: {},
        },
      );
    }
    expect(await claim()).toEqual([]);
    expect((await pass()).plan?.giveUp).toMatchObject([
      { jobId: 8, reason: "too-many-launches", vmsLaunched: 3 },
    ]);
    expect(await t.query("select gave_up_reason, launch_error from jobs where id = 8")).toEqual([
      {
        gave_up_reason: "too-many-launches",
        launch_error: "gave up after 3 VMs that never ran the job",
      },
    ]);
    const [listed] = await t.ledger.listJobs({ limit: 10 }, clock);
    expect(listed?.gaveUp).toEqual({
      reason: "too-many-launches",
      words: "gave up after 3 VMs that never ran the job",
    });
    expect(await registry.metrics()).toContain(
      'mayfly_jobs_given_up_total{pool="x64",reason="too-many-launches"} 1',
    );
  });

  describe("a job whose VM ran and ended before the controller heard that its runner took it", () => {
    // The runner took the job, ran it and powered off; the `in_progress` and `completed`
    // webhooks are still on their way (a slow controller, or GitHub late). The reaper sees
    // the VM gone and the ledger's job still queued without a runner.
    const ranAndEnded = async (jobId: number, status: "in_progress" | "completed" | "queued") => {
      await queue(jobId);
      gh.addJob({
        id: jobId,
        repository: "example-org/app",
        status,
        conclusion: status === "completed" ? "success" : null,
      });
      const [intent] = await claim();
      if (!intent) throw new Error("expected a launch");
      expect(await launchRunner(intent, deps)).toBe("launched");
      for (const vm of live()) ec2.powerOff(vm.instanceId);
      await reapOnce(deps);
      expect(live()).toEqual([]);
      const [again] = await claim();
      if (!again) throw new Error("expected the job to look unserved");
      return launchRunner(again, deps);
    };

    it("gets no second VM when GitHub has it completed, and is closed", async () => {
      expect(await ranAndEnded(9, "completed")).toBe("settled");
      expect(ec2.instances()).toHaveLength(1);
      expect(await t.ledger.getJob(9)).toMatchObject({ state: "completed", conclusion: "success" });
      expect(await claim()).toEqual([]);
      expect((await t.ledger.listSubnets()).every((s) => !s.leased)).toBe(true);
    });

    it("gets no second VM when GitHub has it in progress", async () => {
      expect(await ranAndEnded(10, "in_progress")).toBe("settled");
      expect(ec2.instances()).toHaveLength(1);
      expect((await t.ledger.getJob(10))?.state).toBe("in_progress");
      expect(await claim()).toEqual([]);
    });

    it("gets a second VM when GitHub still has it queued", async () => {
      expect(await ranAndEnded(11, "queued")).toBe("launched");
      expect(ec2.instances()).toHaveLength(2);
    });
  });
});
