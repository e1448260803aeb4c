import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AssociateRouteTableCommand,
  CreateInternetGatewayCommand,
  CreateLaunchTemplateCommand,
  CreateNatGatewayCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeSubnetsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { run } from "../../src/cli.js";
import { doctorPassed, runDoctor } from "../../src/cloud/ec2/doctor.js";
import { type AclEntry, networkAclEntries } from "../../src/cloud/ec2/network-acl-entries.js";
import { type FleetConfig, fleetSchema } from "../../src/config/fleet-schema.js";
import { motoBehindProxy, motoServerFor } from "../support/moto-server.js";
import { testEc2Client } from "./ec2-test-client.js";

const motoBin = motoServerFor("the doctor tests (test/cloud/doctor.test.ts)");

// moto 5.2.1 carries out CreateSubnet, DeleteSubnet, CreateNetworkAcl(Entry) and
// ReplaceNetworkAclAssociation even with DryRun=true (it deleted our test subnet), so the
// proxy answers DryRunOperation (412) for those, as AWS would; the SDK still parses a real
// EC2 error. RunInstances, TerminateInstances, CreateTags and the Describes reach moto,
// which does honour DryRun for them.
const MOTO_IGNORES_DRY_RUN = [
  "CreateSubnet",
  "DeleteSubnet",
  "CreateNetworkAcl",
  "CreateNetworkAclEntry",
  "ReplaceNetworkAclAssociation",
];
const wire = motoBehindProxy(motoBin, { answerDryRun: MOTO_IGNORES_DRY_RUN });

function fleetFor(overrides: Record<string, unknown> = {}, network: Record<string, unknown> = {}) {
  return fleetSchema.parse({
    fleet: "doctor",
    network: {
      vpcId: wire.vpc.vpcId,
      runnerCidr: "10.0.128.0/17",
      availabilityZones: [wire.vpc.availabilityZone],
      ...network,
    },
    pools: [
      {
        name: "small",
        labels: ["mayfly-small"],
        instanceTypes: ["t3.micro"],
        image: wire.vpc.imageId,
        maxRunners: 5,
      },
    ],
    ...overrides,
  }) as FleetConfig;
}

/** An ACL in the test VPC holding `entries`, as Terraform's would. */
async function aclWith(client: EC2Client, entries: readonly AclEntry[]): Promise<string> {
  const acl = await client.send(new CreateNetworkAclCommand({ VpcId: wire.vpc.vpcId }));
  const id = acl.NetworkAcl?.NetworkAclId as string;
  for (const e of entries) {
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: id,
        RuleNumber: e.ruleNumber,
        Egress: e.egress,
        RuleAction: e.ruleAction,
        Protocol: e.protocol,
        CidrBlock: e.cidrBlock,
        ...(e.portRange ? { PortRange: { From: e.portRange.from, To: e.portRange.to } } : {}),
      }),
    );
  }
  return id;
}

describe.skipIf(!motoBin)("mayfly doctor against moto_server", () => {
  it("passes a correctly set up VPC, every check ok, creating nothing", async () => {
    const direct = testEc2Client(wire.moto.url);
    const aclId = await aclWith(direct, networkAclEntries(["10.0.0.0/16"], "nat"));
    const table = await direct.send(new CreateRouteTableCommand({ VpcId: wire.vpc.vpcId }));
    await direct.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: "mayfly-runner",
        LaunchTemplateData: { ImageId: wire.vpc.imageId },
      }),
    );
    const fleet = fleetFor(
      { launchTemplate: "mayfly-runner" },
      {
        networkAclId: aclId,
        routeTableId: table.RouteTable?.RouteTableId,
        maxSubnets: 150,
      },
    );

    const checks = await runDoctor(testEc2Client(wire.proxy.url), fleet);

    expect(checks.filter((c) => c.status !== "ok")).toEqual([]);
    expect(doctorPassed(checks)).toBe(true);
    expect(checks.map((c) => c.check)).toEqual(
      expect.arrayContaining([
        "permission ec2:RunInstances",
        "permission ec2:ReplaceNetworkAclAssociation",
        `vpc ${wire.vpc.vpcId}`,
        "launch template mayfly-runner",
        `image ${wire.vpc.imageId}`,
        `subnet quota in ${wire.vpc.vpcId}`,
        `network ACL denials of ${aclId}`,
        `routes beyond the VPC from ${table.RouteTable?.RouteTableId}`,
      ]),
    );
    // The ACL is given (Terraform's): mayfly never creates one, so its role need not.
    expect(checks.map((c) => c.check)).not.toContain("permission ec2:CreateNetworkAcl");
    expect(checks.map((c) => c.check)).not.toContain("permission ec2:CreateTags");
    expect(wire.proxy.requests("RunInstances")[0]).toMatchObject({
      DryRun: "true",
      "LaunchTemplate.LaunchTemplateName": "mayfly-runner",
      SubnetId: wire.vpc.subnetId,
    });
    const subnets = await direct.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [wire.vpc.vpcId] }] }),
    );
    expect(subnets.Subnets?.map((s) => s.SubnetId)).toEqual([wire.vpc.subnetId]);
  });

  it("reports an ACL that leaves a private range open, or allows one first, as missing", async () => {
    const direct = testEc2Client(wire.moto.url);
    const wanted = networkAclEntries(["10.0.0.0/16"], "nat");
    // 172.16.0.0/12 outbound is left out, and an allowance of 192.168.0.0/16 comes first.
    const aclId = await aclWith(direct, [
      ...wanted.filter((e) => !(e.cidrBlock === "172.16.0.0/12" && e.egress)),
      {
        ruleNumber: 90,
        egress: false,
        ruleAction: "allow",
        protocol: "6",
        cidrBlock: "192.168.1.0/24",
      },
    ]);

    const checks = await runDoctor(
      testEc2Client(wire.proxy.url),
      fleetFor({}, { networkAclId: aclId }),
    );

    expect(checks).toContainEqual({
      status: "missing",
      check: `network ACL denials of ${aclId}`,
      detail: "not denied before any allowance: 172.16.0.0/12 outbound, 192.168.0.0/16 inbound",
    });
    expect(doctorPassed(checks)).toBe(false);
  });

  it("warns of routes to a peering connection from the runner table and the NAT's table, naming what the ACL leaves open", async () => {
    const direct = testEc2Client(wire.moto.url);
    const other = await direct.send(new CreateVpcCommand({ CidrBlock: "10.1.0.0/16" }));
    const peering = await direct.send(
      new CreateVpcPeeringConnectionCommand({
        VpcId: wire.vpc.vpcId,
        PeerVpcId: other.Vpc?.VpcId,
      }),
    );
    const pcx = peering.VpcPeeringConnection?.VpcPeeringConnectionId as string;
    // The NAT lives in a public subnet with its own table, which routes to the peer too.
    const igw = await direct.send(new CreateInternetGatewayCommand({}));
    const publicSubnet = await direct.send(
      new CreateSubnetCommand({ VpcId: wire.vpc.vpcId, CidrBlock: "10.0.1.0/24" }),
    );
    const nat = await direct.send(
      new CreateNatGatewayCommand({ SubnetId: publicSubnet.Subnet?.SubnetId }),
    );
    const natTable = await direct.send(new CreateRouteTableCommand({ VpcId: wire.vpc.vpcId }));
    const natTableId = natTable.RouteTable?.RouteTableId as string;
    await direct.send(
      new AssociateRouteTableCommand({
        RouteTableId: natTableId,
        SubnetId: publicSubnet.Subnet?.SubnetId,
      }),
    );
    await direct.send(
      new CreateRouteCommand({
        RouteTableId: natTableId,
        DestinationCidrBlock: "0.0.0.0/0",
        GatewayId: igw.InternetGateway?.InternetGatewayId,
      }),
    );
    await direct.send(
      new CreateRouteCommand({
        RouteTableId: natTableId,
        DestinationCidrBlock: "203.0.113.0/24",
        VpcPeeringConnectionId: pcx,
      }),
    );
    const runnerTable = await direct.send(new CreateRouteTableCommand({ VpcId: wire.vpc.vpcId }));
    const runnerTableId = runnerTable.RouteTable?.RouteTableId as string;
    await direct.send(
      new CreateRouteCommand({
        RouteTableId: runnerTableId,
        DestinationCidrBlock: "0.0.0.0/0",
        NatGatewayId: nat.NatGateway?.NatGatewayId,
      }),
    );
    await direct.send(
      new CreateRouteCommand({
        RouteTableId: runnerTableId,
        DestinationCidrBlock: "10.1.0.0/16",
        VpcPeeringConnectionId: pcx,
      }),
    );

    const checks = await runDoctor(
      testEc2Client(wire.proxy.url),
      fleetFor({}, { routeTableId: runnerTableId }),
    );

    expect(checks).toContainEqual({
      status: "warn",
      check: `routes beyond the VPC from ${runnerTableId}`,
      detail: [
        `${runnerTableId}: 10.1.0.0/16 via ${pcx} (denied by the runner ACL)`,
        `${natTableId}: 203.0.113.0/24 via ${pcx} (NOT denied by the runner ACL: runners can reach it)`,
      ].join("; "),
    });
  });

  it("warns when maxSubnets does not fit beside the VPC's other subnets under the quota", async () => {
    const checks = await runDoctor(testEc2Client(wire.proxy.url), fleetFor());

    expect(checks).toContainEqual({
      status: "warn",
      check: `subnet quota in ${wire.vpc.vpcId}`,
      detail: expect.stringContaining("only 199 fit under AWS's default quota of 200"),
    });
    expect(doctorPassed(checks)).toBe(true);
    expect(checks.map((c) => c.check)).toContain("permission ec2:CreateNetworkAclEntry");
  });

  it("reports ec2:RunInstances missing, with AWS's message, and exits non-zero", async () => {
    wire.proxy.fail({
      action: "RunInstances",
      code: "UnauthorizedOperation",
      message: "You are not authorized to perform this operation.",
      when: (params) => params.DryRun === "true",
    });
    const dir = mkdtempSync(join(tmpdir(), "mayfly-doctor-"));
    const file = join(dir, "fleet.yaml");
    writeFileSync(file, stringify(fleetFor()));
    const out: string[] = [];
    const err: string[] = [];

    const code = await run(
      ["doctor", "--config", file],
      {},
      { out: (t) => out.push(t), err: (t) => err.push(t) },
      { ec2: testEc2Client(wire.proxy.url) },
    );

    expect(code).toBe(78);
    expect(out.join("\n")).toMatch(
      /^missing +permission ec2:RunInstances: UnauthorizedOperation: You are not authorized/m,
    );
    expect(out.join("\n")).toMatch(/^ok +permission ec2:TerminateInstances$/m);
    expect(err.join("\n")).toContain("doctor: 1 checks missing");
  });

  it("reports a VPC that does not exist as missing, in JSON with --json", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mayfly-doctor-"));
    const file = join(dir, "fleet.yaml");
    writeFileSync(file, stringify(fleetFor({}, { vpcId: "vpc-0123456789abcdef0" })));
    const out: string[] = [];

    const code = await run(
      ["doctor", "--json"],
      { MAYFLY_CONFIG: file },
      { out: (t) => out.push(t), err: () => {} },
      { ec2: testEc2Client(wire.proxy.url) },
    );

    expect(code).not.toBe(0);
    const checks = JSON.parse(out.join("\n"));
    expect(checks).toContainEqual({
      status: "missing",
      check: "vpc vpc-0123456789abcdef0",
      detail: expect.stringContaining("InvalidVpcID.NotFound"),
    });
  });
});
