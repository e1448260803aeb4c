import {
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateSubnetCommand,
  DeleteSubnetCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  ReplaceNetworkAclAssociationCommand,
  ReplaceNetworkAclEntryCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { FleetConfig } from "../../config/fleet-schema.js";
import { awsMessage, type DoctorCheck, missing, ok, warn } from "./doctor-check.js";
import { ec2ErrorCode } from "./ec2-errors.js";
import { FLEET_TAG, runInstancesInput } from "./run-instances-input.js";

/** IDs the permission probes name: real ones where the account has them, else stand-ins. */
export interface ProbeTargets {
  /** A subnet in the fleet's VPC, for the RunInstances probe. */
  readonly subnetId?: string;
  /** A VM of the fleet: IAM conditions on the fleet tag are checked against it. */
  readonly instanceId?: string;
  /** A runner subnet of the fleet, for the DeleteSubnet probe. */
  readonly fleetSubnetId?: string;
}

// Stand-in IDs for probes where the account has nothing of ours yet. EC2 checks
// permissions before it looks the resource up, for most actions; when it does not, the
// probe only warns.
const NO_INSTANCE = "i-00000000000000000";
const NO_SUBNET = "subnet-00000000000000000";
const NO_ACL = "acl-00000000000000000";
const NO_ASSOCIATION = "aclassoc-00000000000000000";

interface Probe {
  readonly action: string;
  readonly send: () => Promise<unknown>;
}

/**
 * Asks EC2, with DryRun, whether the controller's role may make each call mayfly makes.
 * DryRunOperation means allowed, UnauthorizedOperation means the IAM action is missing.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html (DryRun)
 */
export async function checkPermissions(
  client: EC2Client,
  fleet: FleetConfig,
  targets: ProbeTargets,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const probe of probes(client, fleet, targets)) {
    checks.push(await dryRun(probe));
  }
  return checks;
}

async function dryRun(probe: Probe): Promise<DoctorCheck> {
  const check = `permission ec2:${probe.action}`;
  try {
    await probe.send();
    return warn(check, "EC2 carried out the request instead of a dry run");
  } catch (error) {
    const code = ec2ErrorCode(error);
    if (code === "DryRunOperation") return ok(check);
    if (code === "UnauthorizedOperation") return missing(check, awsMessage(error));
    return warn(check, `could not tell: ${awsMessage(error)}`);
  }
}

function probes(client: EC2Client, fleet: FleetConfig, targets: ProbeTargets): Probe[] {
  const _fleetTag = [{ Key: FLEET_TAG, Value: fleet.fleet }];
  const instanceId = targets.instanceId ?? NO_INSTANCE;
  const dryRun = true;
  return [
    {
      action: "RunInstances",
      send: () => client.send(new RunInstancesCommand(launchProbe(fleet, targets))),
    },
    {
      action: "TerminateInstances",
      send: () =>
        client.send(new TerminateInstancesCommand({ DryRun: dryRun, InstanceIds: [instanceId] })),
    },
    // No CreateTags probe: mayfly tags only at creation (TagSpecifications), which EC2
    // authorizes as part of RunInstances and CreateSubnet, probed above and below.
    ...networkProbes(client, fleet, targets),
    {
      action: "DescribeInstances",
      send: () => client.send(new DescribeInstancesCommand({ DryRun: dryRun })),
    },
    {
      action: "DescribeSubnets",
      send: () => client.send(new DescribeSubnetsCommand({ DryRun: dryRun })),
    },
    {
      action: "DescribeVpcs",
      send: () => client.send(new DescribeVpcsCommand({ DryRun: dryRun })),
    },
  ];
}

/** The calls that carve, isolate and delete runner subnets. */
function networkProbes(client: EC2Client, fleet: FleetConfig, targets: ProbeTargets): Probe[] {
  const { vpcId, networkAclId } = fleet.network;
  const fleetTag = [{ Key: FLEET_TAG, Value: fleet.fleet }];
  const tagged = (type: "subnet" | "network-acl") => [{ ResourceType: type, Tags: fleetTag }];
  const aclId = networkAclId ?? NO_ACL;
  const dryRun = true;
  return [
    {
      action: "CreateSubnet",
      send: () =>
        client.send(
          new CreateSubnetCommand({
            DryRun: dryRun,
            VpcId: vpcId,
            CidrBlock: firstRunnerSubnet(fleet),
            AvailabilityZone: fleet.network.availabilityZones[0],
            TagSpecifications: tagged("subnet"),
          }),
        ),
    },
    {
      action: "DeleteSubnet",
      send: () =>
        client.send(
          new DeleteSubnetCommand({ DryRun: dryRun, SubnetId: targets.fleetSubnetId ?? NO_SUBNET }),
        ),
    },
    // With a given ACL (Terraform's) mayfly never creates one, and its role may not.
    ...(networkAclId === undefined
      ? [
          {
            action: "CreateNetworkAcl",
            send: () =>
              client.send(
                new CreateNetworkAclCommand({
                  DryRun: dryRun,
                  VpcId: vpcId,
                  TagSpecifications: tagged("network-acl"),
                }),
              ),
          },
          ...(["CreateNetworkAclEntry", "ReplaceNetworkAclEntry"] as const).map((action) => ({
            action,
            send: () => {
              const entry = {
                DryRun: dryRun,
                NetworkAclId: aclId,
                RuleNumber: 100,
                Protocol: "-1",
                RuleAction: "deny" as const,
                Egress: false,
                CidrBlock: fleet.network.runnerCidr,
              };
              return client.send(
                action === "CreateNetworkAclEntry"
                  ? new CreateNetworkAclEntryCommand(entry)
                  : new ReplaceNetworkAclEntryCommand(entry),
              );
            },
          })),
        ]
      : []),
    {
      action: "ReplaceNetworkAclAssociation",
      send: () =>
        client.send(
          new ReplaceNetworkAclAssociationCommand({
            DryRun: dryRun,
            AssociationId: NO_ASSOCIATION,
            NetworkAclId: aclId,
          }),
        ),
    },
  ];
}

/**
 * The launch as mayfly makes it (the same request builder, first pool, first instance
 * type), as a dry run: the controller's policy holds RunInstances to the fleet tag, IMDSv2,
 * one hop, encrypted volumes, the pools' images and the runner security group, so a probe
 * without them would be refused where a real launch is allowed.
 */
function launchProbe(fleet: FleetConfig, targets: ProbeTargets): RunInstancesCommandInput {
  const pool = fleet.pools[0];
  if (pool === undefined) return { DryRun: true, MinCount: 1, MaxCount: 1 };
  const input = runInstancesInput(
    {
      pool: pool.name,
      jobId: 0,
      runnerName: "mayfly-doctor",
      image: pool.image,
      instanceType: pool.instanceTypes[0] ?? "",
      market: "on-demand",
      subnetId: targets.subnetId ?? "",
      diskGiB: pool.diskGiB,
      rootDevice: pool.rootDevice,
      ...(pool.volumeKmsKeyId === undefined ? {} : { volumeKmsKeyId: pool.volumeKmsKeyId }),
      userData: "",
    },
    "mayfly-doctor-dry-run",
    {
      fleet: fleet.fleet,
      launchTemplate: fleet.launchTemplate,
      securityGroupIds: fleet.network.securityGroupIds,
    },
  );
  const { SubnetId, UserData: _none, ...rest } = input;
  return { ...rest, DryRun: true, ...(targets.subnetId ? { SubnetId } : {}) };
}

/** The first block of runnerCidr at the subnet prefix length. */
function firstRunnerSubnet(fleet: FleetConfig): string {
  const [base] = fleet.network.runnerCidr.split("/");
  return `${base}/${fleet.network.subnetPrefixLength}`;
}
