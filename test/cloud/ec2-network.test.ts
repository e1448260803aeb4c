import {
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateSubnetCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterEach, describe, expect, it } from "vitest";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import type { Ec2NetworkConfig } from "../../src/cloud/ec2/ec2-network.js";
import { networkAclEntries } from "../../src/cloud/ec2/network-acl-entries.js";
import { CloudError } from "../../src/errors.js";
import { type SimEc2, type SimEc2Options, startSimEc2 } from "../../src/sim/ec2/sim-ec2.js";
import { testEc2Client } from "./ec2-test-client.js";

const ACTIONS = [
  "DescribeVpcs",
  "DescribeSubnets",
  "DescribeNetworkAcls",
  "DescribeRouteTables",
  "CreateNetworkAcl",
  "CreateNetworkAclEntry",
  "ReplaceNetworkAclEntry",
  "CreateSubnet",
  "ReplaceNetworkAclAssociation",
  "AssociateRouteTable",
  "ModifySubnetAttribute",
  "DeleteSubnet",
];

let sim: SimEc2 | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function setUp(
  network: Partial<Ec2NetworkConfig> = {},
  options: SimEc2Options = {},
  clock: { aclSyncMs?: number; now?: () => number } = {},
) {
  sim = await startSimEc2({ routeTableIds: ["rtb-0f1ee7"], ...options });
  const client = testEc2Client(sim.url);
  const cloud = new Ec2Cloud({
    client,
    fleet: "test",
    network: { vpcId: "vpc-0511", egress: "nat", ...network },
    ...clock,
  });
  return { sim, cloud, client };
}

/** Calls per action made while `run` runs. */
async function callsDuring(
  s: SimEc2,
  run: () => Promise<unknown>,
): Promise<Record<string, number>> {
  const before = ACTIONS.map((a) => s.calls(a));
  await run();
  const out: Record<string, number> = {};
  ACTIONS.forEach((a, i) => {
    const n = s.calls(a) - (before[i] ?? 0);
    if (n > 0) out[a] = n;
  });
  return out;
}

const ours = (s: SimEc2) =>
  s.networkAcls().find((a) => a.tags["mayfly:role"] === "runner-isolation");

describe("networkAclEntries", () => {
  it("denies every private range and every VPC block both ways before allowing the internet", () => {
    const entries = networkAclEntries(["10.0.0.0/16", "198.18.0.0/16"], "nat");
    expect(
      entries.map((e) => [e.ruleNumber, e.egress, e.ruleAction, e.protocol, e.cidrBlock]),
    ).toEqual([
      [100, true, "deny", "-1", "10.0.0.0/8"],
      [100, false, "deny", "-1", "10.0.0.0/8"],
      [101, true, "deny", "-1", "172.16.0.0/12"],
      [101, false, "deny", "-1", "172.16.0.0/12"],
      [102, true, "deny", "-1", "192.168.0.0/16"],
      [102, false, "deny", "-1", "192.168.0.0/16"],
      [103, true, "deny", "-1", "100.64.0.0/10"],
      [103, false, "deny", "-1", "100.64.0.0/10"],
      [110, true, "deny", "-1", "10.0.0.0/16"],
      [110, false, "deny", "-1", "10.0.0.0/16"],
      [111, true, "deny", "-1", "198.18.0.0/16"],
      [111, false, "deny", "-1", "198.18.0.0/16"],
      [200, true, "allow", "-1", "0.0.0.0/0"],
      [200, false, "allow", "6", "0.0.0.0/0"],
      [210, false, "allow", "17", "0.0.0.0/0"],
    ]);
    const inbound = entries.filter((e) => !e.egress && e.ruleAction === "allow");
    expect(inbound.map((e) => e.portRange)).toEqual([
      { from: 1024, to: 65535 },
      { from: 1024, to: 65535 },
    ]);
  });

  it("refuses more VPC blocks than fit below the allowances", () => {
    const blocks = Array.from({ length: 91 }, (_, i) => `198.${i}.0.0/16`);
    expect(() => networkAclEntries(blocks, "nat")).toThrow(/at most 90 VPC CIDR blocks/);
    expect(networkAclEntries(blocks.slice(0, 90), "nat").at(-4)?.ruleNumber).toBe(199);
  });

  it("allows nothing with egress none", () => {
    const entries = networkAclEntries(["10.0.0.0/16"], "none");
    expect(entries.every((e) => e.ruleAction === "deny")).toBe(true);
    expect(entries).toHaveLength(10);
  });

  it("gives direct egress the same rules as nat", () => {
    expect(networkAclEntries(["10.0.0.0/16"], "direct")).toEqual(
      networkAclEntries(["10.0.0.0/16"], "nat"),
    );
  });
});

describe("Ec2Cloud runner subnets", () => {
  it.each(["nat", "direct", "none"] as const)(
    "creates the fleet's tagged ACL for egress %s, with every VPC block denied",
    async (egress) => {
      const { sim, cloud } = await setUp(
        { egress },
        { vpcCidr: "10.0.0.0/16", secondaryVpcCidrs: ["100.64.0.0/16"] },
      );
      const subnet = await cloud.createSubnet("10.0.128.0/28", "eu-west-1a");
      const acl = ours(sim);
      expect(acl?.tags).toMatchObject({ "mayfly:fleet": "test", Name: "test-runner-isolation" });
      const rules = acl?.entries.filter((e) => e.ruleNumber < 32767) ?? [];
      expect(
        rules.map(({ ruleNumber, egress, ruleAction, cidrBlock }) => ({
          ruleNumber,
          egress,
          ruleAction,
          cidrBlock,
        })),
      ).toEqual(
        expect.arrayContaining(
          networkAclEntries(["10.0.0.0/16", "100.64.0.0/16"], egress).map(
            ({ ruleNumber, egress, ruleAction, cidrBlock }) => ({
              ruleNumber,
              egress,
              ruleAction,
              cidrBlock,
            }),
          ),
        ),
      );
      expect(rules).toHaveLength(egress === "none" ? 12 : 15);
      const inSim = sim.subnets().find((s) => s.subnetId === subnet.subnetId);
      expect(inSim).toMatchObject({
        networkAclId: acl?.networkAclId,
        tags: { "mayfly:fleet": "test", Name: "test-runner" },
        mapPublicIpOnLaunch: egress === "direct",
      });
    },
  );

  it("creates a subnet in three calls once the ACL is known, and lists them in two", async () => {
    const { sim, cloud } = await setUp();
    await cloud.createSubnet("10.0.128.0/28", "eu-west-1a");
    expect(
      await callsDuring(sim, () => cloud.createSubnet("10.0.128.16/28", "eu-west-1b")),
    ).toEqual({
      CreateSubnet: 1,
      DescribeNetworkAcls: 1,
      ReplaceNetworkAclAssociation: 1,
    });
    let listed: Awaited<ReturnType<Ec2Cloud["listSubnets"]>> = [];
    expect(
      await callsDuring(sim, async () => {
        listed = await cloud.listSubnets();
      }),
    ).toEqual({ DescribeSubnets: 1, DescribeNetworkAcls: 1 });
    expect(listed.map((s) => [s.cidr, s.isolated])).toEqual([
      ["10.0.128.0/28", true],
      ["10.0.128.16/28", true],
    ]);
  });

  it("denies a block associated with the VPC later, at the next sync of its ACL", async () => {
    let now = 0;
    const { sim, cloud } = await setUp({}, {}, { aclSyncMs: 60_000, now: () => now });
    await cloud.createSubnet("10.0.128.0/28", "eu-west-1a");
    sim.associateVpcCidr("198.18.0.0/16");
    const denied = () =>
      (ours(sim)?.entries ?? [])
        .filter((e) => e.ruleAction === "deny" && e.cidrBlock === "198.18.0.0/16")
        .map((e) => [e.ruleNumber, e.egress]);
    now = 59_999;
    await cloud.listSubnets();
    expect(denied()).toEqual([]);
    now = 60_000;
    expect(await callsDuring(sim, () => cloud.listSubnets())).toMatchObject({
      DescribeVpcs: 1,
      CreateNetworkAclEntry: 2,
    });
    expect(denied()).toEqual([
      [111, true],
      [111, false],
    ]);
  });

  it("brings an ACL of older rules in step: adds what is missing, then replaces what differs", async () => {
    const { sim, cloud, client } = await setUp({}, { secondaryVpcCidrs: ["198.18.0.0/16"] });
    const made = await client.send(
      new CreateNetworkAclCommand({
        VpcId: "vpc-0511",
        TagSpecifications: [
          {
            ResourceType: "network-acl",
            Tags: [
              { Key: "mayfly:fleet", Value: "test" },
              { Key: "mayfly:role", Value: "runner-isolation" },
            ],
          },
        ],
      }),
    );
    // The rules an earlier mayfly made: the VPC's blocks at 100 and 101, then the internet.
    const older = [
      [100, "10.0.0.0/16"],
      [101, "198.18.0.0/16"],
    ] as const;
    for (const [rule, cidr] of older) {
      for (const egress of [true, false]) {
        await client.send(
          new CreateNetworkAclEntryCommand({
            NetworkAclId: made.NetworkAcl?.NetworkAclId,
            RuleNumber: rule,
            Egress: egress,
            RuleAction: "deny",
            Protocol: "-1",
            CidrBlock: cidr,
          }),
        );
      }
    }
    const calls = await callsDuring(sim, () => cloud.createSubnet("10.0.128.0/28", "eu-west-1a"));
    expect(calls).toMatchObject({ CreateNetworkAclEntry: 11, ReplaceNetworkAclEntry: 4 });
    const rules = (ours(sim)?.entries ?? [])
      .filter((e) => e.ruleNumber < 32767)
      .map(({ ruleNumber, egress, ruleAction, protocol, cidrBlock, portRange }) => ({
        ruleNumber,
        egress,
        ruleAction,
        protocol,
        cidrBlock,
        ...(portRange === undefined ? {} : { portRange }),
      }));
    const byRule = (a: { ruleNumber: number; egress: boolean }, b: typeof a) =>
      a.ruleNumber - b.ruleNumber || Number(a.egress) - Number(b.egress);
    expect(rules.sort(byRule)).toEqual(
      networkAclEntries(["10.0.0.0/16", "198.18.0.0/16"], "nat").sort(byRule),
    );
  });

  it("shares one ACL lookup between concurrent callers", async () => {
    const { sim, cloud } = await setUp();
    await Promise.all(
      [0, 1, 2].map((i) => cloud.createSubnet(`10.0.128.${i * 16}/28`, "eu-west-1a")),
    );
    expect(sim.calls("CreateNetworkAcl")).toBe(1);
    expect(sim.calls("DescribeVpcs")).toBe(1);
  });

  it("uses a configured ACL as it is", async () => {
    const { sim, client } = await setUp();
    const acl = sim.networkAcls()[0]?.networkAclId as string;
    const withAcl = new Ec2Cloud({
      client,
      fleet: "test",
      network: { vpcId: "vpc-0511", egress: "nat", networkAclId: acl },
    });
    const subnet = await withAcl.createSubnet("10.0.128.0/28", "eu-west-1a");
    expect(sim.calls("CreateNetworkAcl") + sim.calls("CreateNetworkAclEntry")).toBe(0);
    expect(sim.subnets().find((s) => s.subnetId === subnet.subnetId)?.networkAclId).toBe(acl);
  });

  it("associates the configured route table, and counts a subnet without it as open", async () => {
    const { sim, cloud, client } = await setUp({ routeTableId: "rtb-0f1ee7", egress: "direct" });
    const made = await cloud.createSubnet("10.0.128.0/28", "eu-west-1a");
    expect(sim.subnets().find((s) => s.subnetId === made.subnetId)?.routeTableId).toBe(
      "rtb-0f1ee7",
    );
    // A subnet of ours someone made by hand: default ACL, main route table, no public IPs.
    const raw = await client.send(
      new CreateSubnetCommand({
        VpcId: "vpc-0511",
        CidrBlock: "10.0.128.16/28",
        AvailabilityZone: "eu-west-1b",
        TagSpecifications: [
          { ResourceType: "subnet", Tags: [{ Key: "mayfly:fleet", Value: "test" }] },
        ],
      }),
    );
    const id = raw.Subnet?.SubnetId as string;
    expect((await cloud.listSubnets()).find((s) => s.subnetId === id)?.isolated).toBe(false);
    await cloud.isolateSubnet(id);
    expect((await cloud.listSubnets()).every((s) => s.isolated)).toBe(true);
    expect(sim.subnets().find((s) => s.subnetId === id)).toMatchObject({
      routeTableId: "rtb-0f1ee7",
      mapPublicIpOnLaunch: true,
      networkAclId: ours(sim)?.networkAclId,
    });
  });

  it("makes no mutating call to isolate a subnet that is isolated", async () => {
    const { sim, cloud } = await setUp({ routeTableId: "rtb-0f1ee7", egress: "direct" });
    const { subnetId } = await cloud.createSubnet("10.0.128.0/28", "eu-west-1a");
    const calls = await callsDuring(sim, () => cloud.isolateSubnet(subnetId));
    expect(Object.keys(calls).every((action) => action.startsWith("Describe"))).toBe(true);
  });

  it("names the quota when the VPC has no room for another subnet", async () => {
    const { cloud } = await setUp({}, { subnetLimit: 1 });
    await cloud.createSubnet("10.0.128.0/28", "eu-west-1a");
    const error = await cloud.createSubnet("10.0.128.16/28", "eu-west-1a").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudError);
    expect((error as Error).message).toMatch(/Subnets per VPC/);
  });

  it("refuses to delete a subnet a VM is still in, and deletes it once the VM is gone", async () => {
    const { sim, cloud, client } = await setUp({}, { shuttingDownMs: 0 });
    const { subnetId } = await cloud.createSubnet("10.0.128.0/28", "eu-west-1a");
    const run = await client.send(
      new RunInstancesCommand({
        ImageId: "ami-0123456789abcdef0",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
      }),
    );
    expect(run.Instances?.[0]?.Placement?.AvailabilityZone).toBe("eu-west-1a");
    await expect(cloud.deleteSubnet(subnetId)).rejects.toThrow(/still has an instance/);
    await cloud.terminate([run.Instances?.[0]?.InstanceId as string]);
    await cloud.deleteSubnet(subnetId);
    expect(sim.subnets().map((s) => s.subnetId)).not.toContain(subnetId);
  });
});
