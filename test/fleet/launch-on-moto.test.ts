import {
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type Instance,
} from "@aws-sdk/client-ec2";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { parseFleet } from "../../src/config/load-fleet.js";
import { startDispatcher } from "../../src/fleet/dispatcher.js";
import type { LaunchDeps } from "../../src/fleet/launch-runner.js";
import { reapOnce } from "../../src/fleet/reaper.js";
import { createSubnetKeeper, type SubnetKeeper } from "../../src/fleet/subnet-keeper.js";
import { OctokitGitHub } from "../../src/github/octokit-github.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import { FAST } from "../github/adapter.js";
import {
  type Ec2FaultProxy,
  type QueryParams,
  startEc2FaultProxy,
} from "../support/ec2-fault-proxy.js";
import { jobEvent, memoryLogger } from "../support/fixtures.js";
import {
  createTestVpc,
  type MotoServer,
  motoServerFor,
  startMotoServer,
  type TestVpc,
} from "../support/moto-server.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

/**
 * Launching end to end through the real code paths — dispatcher, subnet keeper, launcher,
 * reaper, Ec2Cloud and the real EC2 client — against moto_server (an EC2 emulator we did
 * not write) behind a proxy that counts calls and answers chosen ones with EC2's errors.
 * moto itself never runs out of capacity, so the proxy plays that part.
 */
const motoBin = motoServerFor("the launch wire tests (test/fleet/launch-on-moto.test.ts)");

const FLEET = "wire";
const VPC_CIDR = "10.0.0.0/16";
const JOBS = 12;
// Generous enough that the SDK would visibly repeat a capacity answer if it retried it.
const MAX_ATTEMPTS = 5;

function fleetFor(vpc: TestVpc) {
  // runnerCidr stays clear of createTestVpc's 10.0.0.0/24; moto's AMI IDs (ami- and 17
  // hex digits) pass the fleet file's image pattern as they are.
  return parseFleet(
    `
fleet: ${FLEET}
network: { vpcId: ${vpc.vpcId}, runnerCidr: 10.0.128.0/20, availabilityZones: [eu-west-1a, eu-west-1b] }
limits: { ec2LaunchesPerSecond: 20 }
prices: { c7i.xlarge: { onDemand: 0.36 }, c6i.xlarge: { onDemand: 0.18 } }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge, c6i.xlarge], image: ${vpc.imageId}, maxRunners: 16 }
`,
    "wire.yaml",
  );
}

describe.skipIf(!motoBin)("launching runners on the EC2 wire (moto_server)", () => {
  let moto: MotoServer;
  let proxy: Ec2FaultProxy;
  let direct: EC2Client;
  let vpc: TestVpc;
  let t: TestLedger;
  let gh: SimGitHub;
  let deps: LaunchDeps;
  let keeper: SubnetKeeper;
  let delivery = 0;

  beforeAll(async () => {
    moto = await startMotoServer(motoBin ?? "");
    proxy = await startEc2FaultProxy(moto.url);
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    direct = testEc2Client(moto.url);
    vpc = await createTestVpc(direct);
    const fleet = fleetFor(vpc);
    t = await testLedger("pglite", "");
    gh = await startSimGitHub();
    const logger = memoryLogger().logger;
    deps = {
      ledger: t.ledger,
      github: new OctokitGitHub({
        appId: gh.appId,
        privateKey: gh.privateKey,
        baseUrl: gh.url,
        logger,
        tuning: FAST,
      }),
      cloud: new Ec2Cloud({
        client: testEc2Client(proxy.url, MAX_ATTEMPTS),
        fleet: FLEET,
        network: fleet.network,
      }),
      fleet,
      logger,
      now: () => new Date(),
      // Zone rotation starts at the fleet's first zone (eu-west-1a).
      random: () => 0,
      runnerEndpoint: "https://mayfly.example.com",
    };
    keeper = createSubnetKeeper(deps);
    proxy.reset();
  });
  afterEach(async () => {
    await gh?.stop();
    await t?.close();
  });

  const queue = (jobId: number) =>
    t.ledger.ingest(
      { id: `q${++delivery}`, event: "workflow_job", receivedAt: new Date() },
      jobEvent({ jobId, createdAt: new Date(Date.now() - 60_000 + jobId) }),
      "x64",
    );
  const complete = (jobId: number) =>
    t.ledger.ingest(
      { id: `c${++delivery}`, event: "workflow_job", receivedAt: new Date() },
      jobEvent({
        jobId,
        action: "completed",
        conclusion: "success",
        completedAt: new Date(),
        runnerName: `${FLEET}-${jobId}-1`,
      }),
      "x64",
    );

  /** Queues jobs 1..n and runs the dispatcher (with the keeper) until every one is running. */
  async function launchJobs(n: number): Promise<void> {
    for (let id = 1; id <= n; id++) await queue(id);
    const dispatcher = startDispatcher(deps, { intervalMs: 20, concurrency: n, subnets: keeper });
    try {
      await waitFor(
        async () => (await t.query("select 1 from runners where state = 'running'")).length === n,
      );
    } finally {
      await dispatcher.stop();
    }
  }

  /** The instances moto holds that are not terminated, read from moto, not through the proxy. */
  async function liveInstances(): Promise<Instance[]> {
    const out = await direct.send(new DescribeInstancesCommand({}));
    return (out.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => i.State?.Name !== "terminated" && i.State?.Name !== "shutting-down");
  }

  async function zonesOfSubnets(): Promise<Map<string, string>> {
    const out = await direct.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.vpcId] }] }),
    );
    return new Map((out.Subnets ?? []).map((s) => [s.SubnetId ?? "", s.AvailabilityZone ?? ""]));
  }

  it("falls back to the pool's second instance type when the first has no capacity, asking once per attempt", async () => {
    proxy.fail({
      action: "RunInstances",
      code: "InsufficientInstanceCapacity",
      when: (p) => p.InstanceType === "c7i.xlarge",
    });
    await launchJobs(JOBS);

    const live = await liveInstances();
    expect(live).toHaveLength(JOBS);
    expect(new Set(live.map((i) => i.InstanceType))).toEqual(new Set(["c6i.xlarge"]));
    // The HTTP 500 capacity answer reached the launcher at once: one call per refused
    // attempt (each with its own ClientToken), then one for the second type.
    const refused = proxy.requests("RunInstances").filter((p) => p.InstanceType === "c7i.xlarge");
    expect(refused).toHaveLength(JOBS);
    expect(new Set(refused.map((p) => p.ClientToken)).size).toBe(JOBS);
    expect(proxy.calls("RunInstances")).toBe(2 * JOBS);
  }, 60_000);

  it("moves a launch to another zone's subnet when no type has capacity in the first zone", async () => {
    const jobs = 4;
    // Subnets made beforehand, so every one the launcher may lease has a known zone.
    await keeper.ensureFree(2 * jobs + 2);
    const zoneOf = await zonesOfSubnets();
    const inZoneA = (p: QueryParams) => zoneOf.get(p.SubnetId ?? "") === "eu-west-1a";
    proxy.reset();
    proxy.fail({ action: "RunInstances", code: "InsufficientInstanceCapacity", when: inZoneA });
    await launchJobs(jobs);

    const live = await liveInstances();
    expect(live).toHaveLength(jobs);
    for (const vm of live) {
      expect(zoneOf.get(vm.SubnetId ?? "")).toBe("eu-west-1b");
      expect(vm.Placement?.AvailabilityZone).toBe("eu-west-1b");
      // The first type with capacity in eu-west-1b.
      expect(vm.InstanceType).toBe("c7i.xlarge");
    }
    const sent = proxy.requests("RunInstances");
    expect(sent.every((p) => zoneOf.has(p.SubnetId ?? ""))).toBe(true);
    // Per job: both types refused once each in eu-west-1a, then one launch in eu-west-1b.
    expect(sent.filter(inZoneA)).toHaveLength(2 * jobs);
    expect(sent).toHaveLength(3 * jobs);
  }, 60_000);

  it("never puts two VMs in one subnet, even when a dozen launch at once", async () => {
    await launchJobs(JOBS);

    const live = await liveInstances();
    expect(live).toHaveLength(JOBS);
    expect(new Set(live.map((i) => i.State?.Name))).toEqual(new Set(["running"]));
    expect(new Set(live.map((i) => i.SubnetId)).size).toBe(JOBS);
    const zoneOf = await zonesOfSubnets();
    expect(live.every((i) => zoneOf.get(i.SubnetId ?? "") !== undefined)).toBe(true);
    expect(live.map((i) => i.SubnetId)).not.toContain(vpc.subnetId);
  }, 60_000);

  it("puts every VM's subnet behind the fleet's isolating ACL, which denies the VPC's CIDR", async () => {
    await launchJobs(JOBS);

    for (const vm of await liveInstances()) {
      const out = await direct.send(
        new DescribeNetworkAclsCommand({
          Filters: [{ Name: "association.subnet-id", Values: [vm.SubnetId ?? ""] }],
        }),
      );
      expect(out.NetworkAcls).toHaveLength(1);
      const [acl] = out.NetworkAcls ?? [];
      const tags = Object.fromEntries((acl?.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
      expect(tags).toMatchObject({ "mayfly:fleet": FLEET });
      expect(acl?.Associations?.map((a) => a.SubnetId)).toContain(vm.SubnetId);
      const denials = (acl?.Entries ?? []).filter(
        (e) => e.RuleAction === "deny" && e.CidrBlock === VPC_CIDR,
      );
      expect(denials.map((e) => e.Egress).sort()).toEqual([false, true]);
    }
  }, 60_000);

  it("makes one RunInstances per VM and ends a dozen finished jobs with one TerminateInstances", async () => {
    await launchJobs(JOBS);
    expect(proxy.calls("RunInstances")).toBe(JOBS);
    // The dispatch pass read the VPC once: one DescribeSubnets for the keeper's round, one
    // DescribeNetworkAcls to find the fleet's ACL and one per new subnet for its association.
    expect(proxy.calls("CreateSubnet")).toBe(JOBS);
    expect(proxy.calls("DescribeSubnets")).toBe(1);
    expect(proxy.calls("DescribeNetworkAcls")).toBe(JOBS + 1);
    expect(proxy.calls("DescribeInstances")).toBe(0);

    for (let id = 1; id <= JOBS; id++) await complete(id);
    const described = proxy.calls("DescribeInstances");
    expect(await reapOnce(deps)).toMatchObject({ terminating: JOBS });
    expect(proxy.calls("TerminateInstances")).toBe(1);
    // One page lists every VM of the fleet.
    expect(proxy.calls("DescribeInstances") - described).toBe(1);
    expect(await liveInstances()).toEqual([]);
  }, 60_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
