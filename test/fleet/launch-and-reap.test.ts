import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { parseFleet } from "../../src/config/load-fleet.js";
import { startDispatcher } from "../../src/fleet/dispatcher.js";
import { clientToken, type LaunchDeps, launchRunner } from "../../src/fleet/launch-runner.js";
import { reapOnce } from "../../src/fleet/reaper.js";
import type { GitHub } from "../../src/github/github.js";
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
network: { vpcId: vpc-0abc, runnerCidr: 10.0.128.0/17, availabilityZones: [eu-west-1a, eu-west-1b] }
prices: { c7i.xlarge: { onDemand: 0.36 }, c6i.xlarge: { onDemand: 0.18 } }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge, c6i.xlarge], image: ami-0123456789abcdef0, maxRunners: 3 }
  - { name: big, labels: [mayfly-16cpu], instanceTypes: [c7i.4xlarge], image: ami-0123456789abcdef0, maxRunners: 2 }
  - { name: spot, labels: [mayfly-spot], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 1, market: spot }
`,
  "test.yaml",
);
const SUBNETS = ["subnet-a1", "subnet-a2", "subnet-a3", "subnet-b1", "subnet-b2", "subnet-b3"];
const zoneOf = (subnet: string) => (subnet.startsWith("subnet-a") ? "eu-west-1a" : "eu-west-1b");
const ENDPOINT = "https://mayfly.example.com";
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
// GitHub's DELETE /orgs/{org}/actions/runners/{runner_id}.
const DELETE_RUNNER = /\/actions\/runners\/\d+$/;
const labels = (pool: string) => [
  "self-hosted",
  "linux",
  "x64",
  { big: "mayfly-16cpu", spot: "mayfly-spot" }[pool] ?? "mayfly-4cpu",
];

describe("launching and reaping runners through the real clients", () => {
  let t: TestLedger;
  let gh: SimGitHub;
  let ec2: SimEc2;
  let deps: LaunchDeps;
  let log: ReturnType<typeof memoryLogger>;
  const jitConfigs: string[] = [];
  // Each VM's user data as EC2 received it, decoded.
  const userDataOf = new Map<string, string>();
  let delivery = 0;

  const queue = (jobId: number, pool = "x64") =>
    t.ledger.ingest(
      { id: `q${++delivery}`, event: "workflow_job", receivedAt: new Date() },
      jobEvent({ jobId, labels: labels(pool), createdAt: new Date(Date.now() - 60_000 + jobId) }),
      pool,
    );
  const complete = (jobId: number, runnerName: string | null) =>
    t.ledger.ingest(
      { id: `c${++delivery}`, event: "workflow_job", receivedAt: new Date() },
      jobEvent({
        jobId,
        action: "completed",
        conclusion: runnerName ? "success" : "cancelled",
        completedAt: new Date(),
        runnerName,
      }),
      "x64",
    );
  const claimAll = () =>
    t.ledger.claimLaunches({
      fleet: fleet.fleet,
      now: new Date(),
      budget: 100,
      fleetMax: 100,
      maxByPool: new Map(fleet.pools.map((p) => [p.name, p.maxRunners])),
      maxLaunchesPerJob: 3,
    });

  beforeEach(async () => {
    jitConfigs.length = 0;
    userDataOf.clear();
    t = await testLedger("pglite", "");
    gh = await startSimGitHub();
    ec2 = await startSimEc2({
      pendingMs: 0,
      shuttingDownMs: 0,
      subnets: Object.fromEntries(SUBNETS.map((s) => [s, zoneOf(s)])),
      onLaunch: (instance, userData) => userDataOf.set(instance.instanceId, userData),
    });
    log = memoryLogger();
    const real = new OctokitGitHub({
      appId: gh.appId,
      privateKey: gh.privateKey,
      baseUrl: gh.url,
      logger: log.logger,
      tuning: FAST,
    });
    // Records the JIT configs handed out, to prove none is stored or logged.
    const github: GitHub = {
      requestsMade: () => real.requestsMade(),
      installationRequestsMade: () => real.installationRequestsMade(),
      installationBudget: (now) => real.installationBudget(now),
      rateLimitsMet: () => real.rateLimitsMet(),
      generateJitConfig: async (req) => {
        const runner = await real.generateJitConfig(req);
        jitConfigs.push(runner.jitConfig.reveal());
        return runner;
      },
      deleteRunner: (...args) => real.deleteRunner(...args),
      findRunner: (...args) => real.findRunner(...args),
      installationIdOf: (...args) => real.installationIdOf(...args),
      findRunnerGroup: (...args) => real.findRunnerGroup(...args),
      createRunnerGroup: (...args) => real.createRunnerGroup(...args),
      updateRunnerGroup: (...args) => real.updateRunnerGroup(...args),
      listRunners: (...args) => real.listRunners(...args),
      getJob: (...args) => real.getJob(...args),
      listDeliveries: (...args) => real.listDeliveries(...args),
      getDeliveryPayload: (...args) => real.getDeliveryPayload(...args),
    };
    const cloud = new Ec2Cloud({
      client: testEc2Client(ec2.url),
      fleet: fleet.fleet,
      network: fleet.network,
    });
    deps = {
      ledger: t.ledger,
      github,
      cloud,
      fleet,
      logger: log.logger,
      now: () => new Date(),
      random: () => 0,
      runnerEndpoint: ENDPOINT,
    };
    await t.ledger.addSubnets(
      SUBNETS.map((s, i) => ({
        subnetId: s,
        availabilityZone: zoneOf(s),
        cidr: `10.0.128.${i * 16}/28`,
      })),
    );
  });
  afterEach(async () => {
    await gh.stop();
    await ec2.stop();
    await t.close();
  });

  it("registers no runner before RunInstances and puts no secret in the user data; the VM's ask registers it with the job's labels, and its JIT config is stored and logged nowhere", async () => {
    await queue(1001);
    const [intent] = await claimAll();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");

    // Nothing registered before RunInstances: GitHub was not written to.
    expect(gh.runners()).toEqual([]);
    expect(gh.requestCount(GENERATE_JIT)).toBe(0);
    expect(jitConfigs).toEqual([]);
    const [vm] = ec2.instances();
    if (!vm) throw new Error("expected a VM");
    expect(vm).toMatchObject({
      instanceType: "c7i.xlarge",
      tags: { "mayfly:job": "1001", "mayfly:runner": "test-1001-1" },
    });
    expect(vm.clientToken).toBe(clientToken("test-1001-1", "c7i.xlarge", "on-demand", vm.subnetId));
    expect(await t.query("select subnet_id from subnets where runner_id is not null")).toEqual([
      { subnet_id: vm.subnetId },
    ]);
    expect(await t.query("select state, instance_id, runner_id from runners")).toEqual([
      { state: "running", instance_id: vm.instanceId, runner_id: null },
    ]);
    // The user data names where the VM asks; it cannot hold a JIT config none exists yet.
    const userData = userDataOf.get(vm.instanceId) ?? "";
    expect(userData).toContain(`${ENDPOINT}/runner/v1/assignment`);

    // The booted VM asks: now its runner is registered, with the job's labels.
    const jitConfig = await vmGetsAssignment(deps, vm.instanceId, new Date(vm.launchedAtMs));
    expect(jitConfigs).toEqual([jitConfig]);
    expect(gh.requestCount(GENERATE_JIT)).toBe(1);
    const registrations = gh.runners();
    expect(registrations).toMatchObject([
      { name: "test-1001-1", labels: expect.arrayContaining(labels("x64")) },
    ]);
    expect(await t.query("select state, runner_id::int from runners")).toEqual([
      { state: "running", runner_id: registrations[0]?.id },
    ]);

    const stored = JSON.stringify(
      await Promise.all(
        ["jobs", "runners", "subnets", "deliveries", "usage"].map((table) =>
          t.query(`select * from ${table}`),
        ),
      ),
    );
    for (const secret of [jitConfig, Buffer.from(jitConfig, "base64").toString()]) {
      expect(stored).not.toContain(secret);
      expect(log.lines()).not.toContain(secret);
      expect(userData).not.toContain(secret);
    }
    expect(log.lines()).toContain('"msg":"runner launched"');
    expect(log.lines()).toContain('"msg":"runner registered for its VM"');
    // Installation tokens (ghs_...) were minted for the registration; none is kept or logged.
    expect(gh.tokenRequests()).toBeGreaterThan(0);
    expect(stored).not.toMatch(/ghs_/);
    expect(log.lines()).not.toMatch(/ghs_/);
  });

  it("tries the pool's next instance type when the first has no capacity", async () => {
    ec2.setFault({ code: "InsufficientInstanceCapacity", instanceType: "c7i.xlarge" });
    await queue(1002);
    const [intent] = await claimAll();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");
    expect(ec2.instances().map((i) => i.instanceType)).toEqual(["c6i.xlarge"]);
  });

  it("moves to another zone's subnet when no type has capacity in the first, keeping one lease", async () => {
    ec2.setFault({ code: "InsufficientInstanceCapacity", availabilityZone: "eu-west-1a" });
    await queue(1005);
    const [intent] = await claimAll();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");
    const [vm] = ec2.instances();
    expect(vm?.subnetId).toMatch(/^subnet-b/);
    // Both types were tried in eu-west-1a first (random 0 starts there), then the first in b.
    expect(ec2.calls("RunInstances")).toBe(3);
    expect(await t.query("select subnet_id from subnets where runner_id is not null")).toEqual([
      { subnet_id: vm?.subnetId },
    ]);
  });

  it("registers no runner, returns the subnet and backs the job off when no type has capacity", async () => {
    ec2.setFault({ code: "InsufficientInstanceCapacity" });
    await queue(1003);
    const [intent] = await claimAll();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("failed");
    // Nothing was registered, so nothing is deregistered.
    expect(gh.requestCount(GENERATE_JIT)).toBe(0);
    expect(gh.requestTimes("DELETE", DELETE_RUNNER)).toEqual([]);
    expect(gh.runners()).toEqual([]);
    expect(ec2.instances()).toEqual([]);
    expect(
      await t.query("select count(*)::int as n from subnets where runner_id is not null"),
    ).toEqual([{ n: 0 }]);
    const [job] = await t.query<{ launch_failures: number; next_launch_at: Date }>(
      "select launch_failures, next_launch_at from jobs",
    );
    expect(job?.launch_failures).toBe(1);
    expect(job?.next_launch_at.getTime()).toBeGreaterThan(Date.now());
    expect(await claimAll()).toEqual([]);
  });

  it("reaps the VM of a job cancelled before its VM asked, with no runner to deregister, and writes usage", async () => {
    await queue(1004);
    const [intent] = await claimAll();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");
    await complete(1004, null);
    expect(await reapOnce(deps)).toMatchObject({ terminating: 1, deregistered: 0, leftBusy: 0 });
    expect(gh.requestTimes("DELETE", DELETE_RUNNER)).toEqual([]);
    expect(ec2.calls("TerminateInstances")).toBe(1);
    await reapOnce(deps);
    expect(await t.query("select state from runners")).toEqual([{ state: "terminated" }]);
    expect(
      await t.query("select count(*)::int as n from subnets where runner_id is not null"),
    ).toEqual([{ n: 0 }]);
    expect(await t.query("select job_id, instance_type from usage")).toEqual([
      { job_id: null, instance_type: "c7i.xlarge" },
    ]);
  });

  it("reaps the VM of a job cancelled after its VM asked, deregistering its runner first, and writes usage", async () => {
    await queue(1007);
    const [intent] = await claimAll();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");
    const [vm] = ec2.instances();
    if (!vm) throw new Error("expected a VM");
    await vmGetsAssignment(deps, vm.instanceId, new Date(vm.launchedAtMs));
    const [registration] = gh.runners();
    expect(registration?.name).toBe("test-1007-1");
    await complete(1007, null);
    expect(await reapOnce(deps)).toMatchObject({ terminating: 1, deregistered: 1 });
    const deletes = gh.requestTimes(
      "DELETE",
      `/orgs/example-org/actions/runners/${registration?.id}`,
    );
    expect(deletes).toHaveLength(1);
    expect(gh.runners()).toEqual([]);
    // Deregistered before the VM was ended: GitHub could give it no job in between.
    const ended = ec2.instances()[0]?.terminatedAtMs ?? Number.NaN;
    expect(deletes[0]).toBeLessThanOrEqual(ended);
    expect(ec2.calls("TerminateInstances")).toBe(1);
    await reapOnce(deps);
    expect(await t.query("select state from runners")).toEqual([{ state: "terminated" }]);
    expect(
      await t.query("select count(*)::int as n from subnets where runner_id is not null"),
    ).toEqual([{ n: 0 }]);
    expect(await t.query("select job_id, instance_type from usage")).toEqual([
      { job_id: null, instance_type: "c7i.xlarge" },
    ]);
  });

  it("notices a spot interruption: the VM's usage says so and its subnet returns", async () => {
    await queue(1006, "spot");
    const [intent] = await claimAll();
    if (!intent) throw new Error("expected a launch");
    expect(await launchRunner(intent, deps)).toBe("launched");
    const [vm] = ec2.instances();
    if (!vm) throw new Error("expected a VM");
    ec2.interruptSpot(vm.instanceId);
    expect(await reapOnce(deps)).toMatchObject({ gone: 1 });
    expect(await t.query("select state, state_reason from runners")).toEqual([
      {
        state: "terminated",
        state_reason: expect.stringContaining("Server.SpotInstanceTermination"),
      },
    ]);
    expect(await t.query("select market, interrupted from usage")).toEqual([
      { market: "spot", interrupted: true },
    ]);
    expect(
      await t.query("select count(*)::int as n from subnets where runner_id is not null"),
    ).toEqual([{ n: 0 }]);
  });

  it("the dispatcher holds a repository at the fleet file's maxRunnersPerRepository", async () => {
    for (let id = 1; id <= 5; id++) await queue(id, "x64");
    await t.ledger.ingest(
      { id: `q${++delivery}`, event: "workflow_job", receivedAt: new Date() },
      // Queued after the other repository's five: in queue order it would wait.
      jobEvent({
        jobId: 6,
        repository: "example-org/web",
        labels: labels("x64"),
        createdAt: new Date(),
      }),
      "x64",
    );
    const capped = { ...fleet, limits: { ...fleet.limits, maxRunnersPerRepository: 2 } };
    const dispatcher = startDispatcher(
      { ...deps, fleet: capped },
      { intervalMs: 20, concurrency: 4 },
    );
    try {
      await waitFor(
        async () => (await t.query("select 1 from runners where state = 'running'")).length === 3,
      );
    } finally {
      await dispatcher.stop();
    }
    expect(
      await t.query(
        "select j.repository, count(*)::int as n from runners r join jobs j on j.id = r.job_id group by 1 order by 1",
      ),
    ).toEqual([
      { repository: "example-org/app", n: 2 },
      { repository: "example-org/web", n: 1 },
    ]);
  });

  it("the dispatcher launches every queued job within each pool's limit, and the reaper ends them all", async () => {
    for (let id = 1; id <= 5; id++) await queue(id, "x64");
    for (let id = 6; id <= 8; id++) await queue(id, "big");
    const dispatcher = startDispatcher(deps, { intervalMs: 20, concurrency: 4 });
    try {
      await waitFor(
        async () => (await t.query("select 1 from runners where state = 'running'")).length === 5,
      );
      const live = await t.query<{ pool: string; n: number }>(
        "select pool, count(*)::int as n from runners where state = 'running' group by pool order by pool",
      );
      expect(live).toEqual([
        { pool: "big", n: 2 },
        { pool: "x64", n: 3 },
      ]);
      for (const [jobId] of [[1], [2], [3], [6], [7]])
        await complete(jobId as number, `test-${jobId}-1`);
      await reapOnce(deps);
      await reapOnce(deps);
      await waitFor(
        async () => (await t.query("select 1 from runners where state = 'running'")).length === 3,
      );
      for (const jobId of [4, 5, 8]) await complete(jobId, `test-${jobId}-1`);
    } finally {
      await dispatcher.stop();
    }
    await reapOnce(deps);
    await reapOnce(deps);
    expect(ec2.instances().filter((i) => ec2.statusOf(i.instanceId) !== "terminated")).toEqual([]);
    expect(await t.query("select count(*)::int as n from usage where job_id is not null")).toEqual([
      { n: 8 },
    ]);
    expect(new Set(ec2.instances().map((i) => i.tags["mayfly:job"])).size).toBe(8);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
