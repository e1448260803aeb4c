import {
  CreateSubnetCommand,
  DeleteSubnetCommand,
  DescribeNetworkAclsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterEach, describe, expect, it } from "vitest";
import { type SimEc2, type SimEc2Options, startSimEc2 } from "../../../src/sim/ec2/sim-ec2.js";
import { testEc2Client } from "../../cloud/ec2-test-client.js";

let sim: SimEc2 | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function setUp(options: SimEc2Options = {}) {
  sim = await startSimEc2(options);
  return { sim, ec2: testEc2Client(sim.url, 1) };
}

const subnet = (CidrBlock: string, tag = "a") =>
  new CreateSubnetCommand({
    VpcId: "vpc-0511",
    CidrBlock,
    AvailabilityZone: "eu-west-1c",
    TagSpecifications: [{ ResourceType: "subnet", Tags: [{ Key: "team", Value: tag }] }],
  });

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: Error) => e.name,
  );

describe("simulated EC2 network", () => {
  it("keeps a subnet undeletable for a while after its instance ended, as its interface goes", async () => {
    let t = 1_000_000;
    const { ec2 } = await setUp({ now: () => t, shuttingDownMs: 1000, eniReleaseMs: 5000 });
    const id = (await ec2.send(subnet("10.0.7.0/28"))).Subnet?.SubnetId as string;
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-0123456789abcdef0",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: id,
      }),
    );
    const instance = run.Instances?.[0]?.InstanceId as string;
    const del = () => codeOf(ec2.send(new DeleteSubnetCommand({ SubnetId: id })));
    expect(await del()).toBe("DependencyViolation");
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance] }));
    t += 1000; // terminated now, its network interface not yet gone
    expect(await del()).toBe("DependencyViolation");
    t += 4999;
    expect(await del()).toBe("DependencyViolation");
    t += 1;
    expect(await del()).toBe("ok");
  });

  it("has a VPC whose subnets start on its default ACL", async () => {
    const { sim, ec2 } = await setUp({ subnets: { "subnet-1": "eu-west-1a" } });
    const vpcs = await ec2.send(new DescribeVpcsCommand({ VpcIds: ["vpc-0511"] }));
    expect(vpcs.Vpcs?.[0]?.CidrBlockAssociationSet?.[0]).toMatchObject({
      CidrBlock: "10.0.0.0/16",
      CidrBlockState: { State: "associated" },
    });
    const made = await ec2.send(subnet("10.0.1.0/24"));
    expect(made.Subnet).toMatchObject({
      AvailabilityZone: "eu-west-1c",
      AvailableIpAddressCount: 251,
    });
    const acls = await ec2.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: "default", Values: ["true"] }] }),
    );
    expect(acls.NetworkAcls?.[0]?.Associations?.map((a) => a.SubnetId)).toEqual([
      "subnet-1",
      made.Subnet?.SubnetId,
    ]);
    expect(sim.subnets()).toHaveLength(2);
  });

  it("answers CreateSubnet's errors as EC2 does", async () => {
    const { ec2 } = await setUp();
    await ec2.send(subnet("10.0.1.0/24"));
    expect(await codeOf(ec2.send(subnet("10.0.1.128/25")))).toBe("InvalidSubnet.Conflict");
    expect(await codeOf(ec2.send(subnet("10.1.0.0/24")))).toBe("InvalidSubnet.Range");
    expect(await codeOf(ec2.send(subnet("10.0.2.0/29")))).toBe("InvalidSubnet.Range");
  });

  it("filters and pages DescribeSubnets", async () => {
    const { ec2 } = await setUp();
    for (let i = 0; i < 7; i++) await ec2.send(subnet(`10.0.${i}.0/24`, i < 6 ? "a" : "b"));
    const Filters = [{ Name: "tag:team", Values: ["a"] }];
    const first = await ec2.send(new DescribeSubnetsCommand({ Filters, MaxResults: 5 }));
    const second = await ec2.send(
      new DescribeSubnetsCommand({ Filters, MaxResults: 5, NextToken: first.NextToken }),
    );
    expect([first.Subnets?.length, second.Subnets?.length, second.NextToken]).toEqual([
      5,
      1,
      undefined,
    ]);
  });

  it("refuses a launch into a subnet it does not have when strict", async () => {
    const { ec2 } = await setUp({ strictSubnets: true });
    const run = new RunInstancesCommand({
      ImageId: "ami-0123456789abcdef0",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: "subnet-0404",
    });
    expect(await codeOf(ec2.send(run))).toBe("InvalidSubnetID.NotFound");
  });

  it("answers a dry run with DryRunOperation, or UnauthorizedOperation when denied", async () => {
    const { sim, ec2 } = await setUp({ deny: ["CreateSubnet"] });
    const dry = await ec2
      .send(new DescribeSubnetsCommand({ DryRun: true }))
      .catch((e: { name: string; $metadata: { httpStatusCode?: number } }) => e);
    expect(dry).toMatchObject({ name: "DryRunOperation", $metadata: { httpStatusCode: 412 } });
    const denied = await ec2
      .send(new CreateSubnetCommand({ VpcId: "vpc-0511", CidrBlock: "10.0.0.0/24", DryRun: true }))
      .catch((e: { name: string; $metadata: { httpStatusCode?: number } }) => e);
    expect(denied).toMatchObject({
      name: "UnauthorizedOperation",
      $metadata: { httpStatusCode: 403 },
    });
    expect(sim.subnets()).toHaveLength(0);
  });
});
