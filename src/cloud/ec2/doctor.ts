import { DescribeInstancesCommand, type EC2Client, type Subnet } from "@aws-sdk/client-ec2";
import type { FleetConfig } from "../../config/fleet-schema.js";
import type { DoctorCheck } from "./doctor-check.js";
import { checkAclDenials, checkPrivateRoutes } from "./doctor-isolation.js";
import { checkPermissions, type ProbeTargets } from "./doctor-permissions.js";
import { checkSubnetQuota, checkVpc, resourceChecks, subnetsOf } from "./doctor-resources.js";
import { FLEET_TAG } from "./run-instances-input.js";

export type { DoctorCheck } from "./doctor-check.js";

/**
 * `mayfly doctor`: whether the AWS account has what the fleet file needs, per IAM
 * permission (by DryRun) and per resource (VPC, launch template, images, ACL, route
 * table, subnet quota), and whether the ACL and routes keep runners off private networks.
 * It only reads and dry-runs: it creates nothing.
 */
export async function runDoctor(client: EC2Client, fleet: FleetConfig): Promise<DoctorCheck[]> {
  const subnets = await subnetsOf(client, fleet.network.vpcId);
  const targets = await probeTargets(client, fleet, subnets);
  const checks = [...(await checkPermissions(client, fleet, targets))];
  checks.push(await checkVpc(client, fleet));
  for (const check of resourceChecks(client, fleet)) checks.push(await check());
  checks.push(await checkAclDenials(client, fleet));
  checks.push(await checkPrivateRoutes(client, fleet));
  checks.push(await checkSubnetQuota(subnets, fleet));
  return checks;
}

/** Whether every check passed (warnings pass). */
export function doctorPassed(checks: readonly DoctorCheck[]): boolean {
  return checks.every((check) => check.status !== "missing");
}

/** One line per check: status, what, and AWS's message when there is one. */
export function formatDoctor(checks: readonly DoctorCheck[]): string {
  return checks
    .map((c) => `${c.status.padEnd(7)} ${c.check}${c.detail ? `: ${c.detail}` : ""}`)
    .join("\n");
}

/**
 * Real IDs for the dry runs where the account has them: IAM conditions on the fleet tag
 * can only be judged against a resource that carries it. A failed lookup leaves stand-ins;
 * the Describe permission checks say why it failed.
 */
async function probeTargets(
  client: EC2Client,
  fleet: FleetConfig,
  subnets: readonly Subnet[],
): Promise<ProbeTargets> {
  const isOurs = (s: Subnet) => s.Tags?.some((t) => t.Key === FLEET_TAG && t.Value === fleet.fleet);
  let instanceId: string | undefined;
  try {
    const out = await client.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${FLEET_TAG}`, Values: [fleet.fleet] },
          { Name: "instance-state-name", Values: ["pending", "running"] },
        ],
        MaxResults: 5,
      }),
    );
    instanceId = out.Reservations?.[0]?.Instances?.[0]?.InstanceId;
  } catch {
    instanceId = undefined;
  }
  return {
    subnetId: (subnets.find(isOurs) ?? subnets[0])?.SubnetId,
    fleetSubnetId: subnets.find(isOurs)?.SubnetId,
    instanceId,
  };
}
