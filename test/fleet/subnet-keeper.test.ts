import {
  CreateSubnetCommand,
  type EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { parseFleet } from "../../src/config/load-fleet.js";
import { createSubnetKeeper, type SubnetKeeperDeps } from "../../src/fleet/subnet-keeper.js";
import { type SimEc2, startSimEc2 } from "../../src/sim/ec2/sim-ec2.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import { jobEvent, memoryLogger } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

const fleet = parseFleet(
  `
fleet: keep
network:
  vpcId: vpc-0511
  runnerCidr: 10.0.128.0/26
  availabilityZones: [eu-west-1a, eu-west-1b]
  maxSubnets: 4
  idleSubnets: 2
  subnetIdleTtl: 10m
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 4 }
`,
  "keep.yaml",
);

describe("the subnet keeper", () => {
  let t: TestLedger;
  let ec2: SimEc2;
  let client: EC2Client;
  let deps: SubnetKeeperDeps;
  let clock: Date;

  beforeEach(async () => {
    t = await testLedger("pglite", "");
    ec2 = await startSimEc2({ vpcId: "vpc-0511", vpcCidr: "10.0.0.0/16", strictSubnets: true });
    client = testEc2Client(ec2.url);
    clock = new Date();
    deps = {
      ledger: t.ledger,
      cloud: new Ec2Cloud({ client, fleet: fleet.fleet, network: fleet.network }),
      fleet,
      logger: memoryLogger().logger,
      now: () => clock,
    };
  });
  afterEach(async () => {
    await ec2.stop();
    await t.close();
  });

  const ours = () => ec2.subnets().filter((s) => s.tags["mayfly:fleet"] === "keep");
  const aclOf = () =>
    ec2.networkAcls().find((a) => a.tags["mayfly:fleet"] === "keep")?.networkAclId;

  it("keeps idleSubnets ready, one per zone, each with the isolating ACL, and records them", async () => {
    expect(await createSubnetKeeper(deps).round()).toEqual({ adopted: 0, created: 2, removed: 0 });
    const subnets = ours();
    expect(subnets.map((s) => [s.cidr, s.availabilityZone])).toEqual([
      ["10.0.128.0/28", "eu-west-1a"],
      ["10.0.128.16/28", "eu-west-1b"],
    ]);
    expect(subnets.every((s) => s.networkAclId === aclOf())).toBe(true);
    expect((await t.ledger.listSubnets()).map((s) => s.subnetId).sort()).toEqual(
      subnets.map((s) => s.subnetId).sort(),
    );
  });

  it("creates subnets for the launches at hand, never past maxSubnets, and asks EC2 only when short", async () => {
    const keeper = createSubnetKeeper(deps);
    await keeper.round();
    const describes = ec2.calls("DescribeSubnets");
    await keeper.ensureFree(2);
    expect(ec2.calls("DescribeSubnets")).toBe(describes);
    await keeper.ensureFree(6);
    expect(ours()).toHaveLength(4);
    expect(await t.ledger.listSubnets()).toHaveLength(4);
  });

  it("adopts and isolates a subnet Terraform created with the fleet's tag", async () => {
    const created = await client.send(
      new CreateSubnetCommand({
        VpcId: "vpc-0511",
        CidrBlock: "10.0.128.32/28",
        AvailabilityZone: "eu-west-1a",
        TagSpecifications: [
          { ResourceType: "subnet", Tags: [{ Key: "mayfly:fleet", Value: "keep" }] },
        ],
      }),
    );
    const id = created.Subnet?.SubnetId;
    expect(await createSubnetKeeper(deps).round()).toMatchObject({ adopted: 1, created: 1 });
    expect(ours().find((s) => s.subnetId === id)?.networkAclId).toBe(aclOf());
    expect((await t.ledger.listSubnets()).map((s) => s.subnetId)).toContain(id);
  });

  it("steers around a CIDR another subnet of the VPC holds", async () => {
    await client.send(
      new CreateSubnetCommand({
        VpcId: "vpc-0511",
        CidrBlock: "10.0.128.0/27",
        AvailabilityZone: "eu-west-1a",
      }),
    );
    const keeper = createSubnetKeeper(deps);
    await keeper.round();
    await keeper.round();
    expect(
      ours()
        .map((s) => s.cidr)
        .sort(),
    ).toEqual(["10.0.128.32/28", "10.0.128.48/28"]);
  });

  it("deletes free surplus once idle past the TTL, never a leased subnet, and forgets deleted ones", async () => {
    const keeper = createSubnetKeeper(deps);
    await keeper.ensureFree(4);
    await t.ledger.ingest(
      { id: "d1", event: "workflow_job", receivedAt: clock },
      jobEvent({ jobId: 1, labels: ["mayfly-4cpu"] }),
      "x64",
    );
    const [intent] = await t.ledger.claimLaunches({
      fleet: "keep",
      now: clock,
      budget: 1,
      fleetMax: 4,
      maxByPool: new Map([["x64", 4]]),
      maxLaunchesPerJob: 3,
    });
    if (!intent) throw new Error("expected a launch");
    const leased = await t.ledger.leaseSubnet(intent.runnerRowId, ["eu-west-1a"], clock);

    expect(await keeper.round()).toMatchObject({ removed: 0 });
    clock = new Date(clock.getTime() + 11 * 60_000);
    expect(await keeper.round()).toMatchObject({ removed: 1, created: 0 });
    const left = await t.ledger.listSubnets();
    expect(left.filter((s) => !s.leased)).toHaveLength(2);
    expect(left.map((s) => s.subnetId)).toContain(leased?.subnetId);
    expect(
      ours()
        .map((s) => s.subnetId)
        .sort(),
    ).toEqual(left.map((s) => s.subnetId).sort());
  });

  it("keeps a surplus subnet EC2 will not delete yet (its instance's interface still there) and deletes it later", async () => {
    await ec2.stop();
    // EC2's clock is the keeper's: the interface of an ended VM goes 30 minutes after it.
    ec2 = await startSimEc2({
      vpcId: "vpc-0511",
      vpcCidr: "10.0.0.0/16",
      strictSubnets: true,
      now: () => clock.getTime(),
      eniReleaseMs: 30 * 60_000,
    });
    client = testEc2Client(ec2.url);
    deps = { ...deps, cloud: new Ec2Cloud({ client, fleet: fleet.fleet, network: fleet.network }) };
    const keeper = createSubnetKeeper(deps);
    await keeper.ensureFree(4);
    // A VM ran and ended in every subnet, so EC2 refuses to delete any of them for now.
    const ids = [];
    for (const subnet of await t.ledger.listSubnets()) {
      const run = await client.send(
        new RunInstancesCommand({
          ImageId: "ami-0123456789abcdef0",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnet.subnetId,
        }),
      );
      ids.push(run.Instances?.[0]?.InstanceId as string);
    }
    await client.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    clock = new Date(clock.getTime() + 11 * 60_000);
    // Two are surplus past the TTL; EC2 refuses both, so both stay in the ledger, free.
    expect(await keeper.round()).toMatchObject({ removed: 0 });
    const left = await t.ledger.listSubnets();
    expect(left).toHaveLength(4);
    expect(left.every((s) => !s.leased)).toBe(true);
    expect(
      ours()
        .map((s) => s.subnetId)
        .sort(),
    ).toEqual(left.map((s) => s.subnetId).sort());
    clock = new Date(clock.getTime() + 31 * 60_000);
    expect(await keeper.round()).toMatchObject({ removed: 2 });
    const after = await t.ledger.listSubnets();
    expect(after).toHaveLength(2);
    expect(
      ours()
        .map((s) => s.subnetId)
        .sort(),
    ).toEqual(after.map((s) => s.subnetId).sort());
  });
});
