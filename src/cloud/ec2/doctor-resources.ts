import {
  DescribeImagesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeVpcsCommand,
  type EC2Client,
  paginateDescribeSubnets,
  type Subnet,
} from "@aws-sdk/client-ec2";
import type { FleetConfig } from "../../config/fleet-schema.js";
import { contains } from "../../core/cidr.js";
import { awsMessage, type DoctorCheck, isNotFound, missing, ok, warn } from "./doctor-check.js";
import { FLEET_TAG } from "./run-instances-input.js";

// "Subnets per VPC: 200", adjustable through Service Quotas; mayfly has no Service Quotas
// client, so the default is what it compares against.
// https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
const DEFAULT_SUBNETS_PER_VPC = 200;

type Check = () => Promise<DoctorCheck>;

/** Whether a lookup failed because the thing is absent (missing) or for another reason (warn). */
function failed(check: string, error: unknown): DoctorCheck {
  return isNotFound(error) ? missing(check, awsMessage(error)) : warn(check, awsMessage(error));
}

/** The VPC exists and runnerCidr lies inside one of its CIDR blocks. */
export async function checkVpc(client: EC2Client, fleet: FleetConfig): Promise<DoctorCheck> {
  const { vpcId, runnerCidr } = fleet.network;
  const check = `vpc ${vpcId}`;
  try {
    const { Vpcs } = await client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    const vpc = Vpcs?.[0];
    if (!vpc) return missing(check, "DescribeVpcs listed no such VPC");
    const blocks = (vpc.CidrBlockAssociationSet ?? [])
      .filter((b) => b.CidrBlockState?.State === "associated" && b.CidrBlock)
      .map((b) => b.CidrBlock as string);
    if (blocks.length === 0 && vpc.CidrBlock) blocks.push(vpc.CidrBlock);
    if (!blocks.some((block) => contains(block, runnerCidr))) {
      return missing(check, `network.runnerCidr ${runnerCidr} is not inside ${blocks.join(", ")}`);
    }
    return ok(check, `runnerCidr ${runnerCidr} inside ${blocks.join(", ")}`);
  } catch (error) {
    return failed(check, error);
  }
}

/** The fleet's subnets now, against network.maxSubnets and AWS's default quota. */
export async function checkSubnetQuota(
  subnets: readonly Subnet[],
  fleet: FleetConfig,
): Promise<DoctorCheck> {
  const { vpcId, maxSubnets } = fleet.network;
  const check = `subnet quota in ${vpcId}`;
  const ours = subnets.filter((s) =>
    s.Tags?.some((t) => t.Key === FLEET_TAG && t.Value === fleet.fleet),
  ).length;
  const others = subnets.length - ours;
  const room = DEFAULT_SUBNETS_PER_VPC - others;
  const counts = `${subnets.length} subnets now (${ours} of this fleet), network.maxSubnets ${maxSubnets}`;
  if (maxSubnets > room) {
    return warn(
      check,
      `${counts}: only ${room} fit under AWS's default quota of ${DEFAULT_SUBNETS_PER_VPC} per VPC; raise the quota or lower maxSubnets`,
    );
  }
  return ok(check, counts);
}

/** Every subnet in the VPC (an empty list when the VPC cannot be read; checkVpc says why). */
export async function subnetsOf(client: EC2Client, vpcId: string): Promise<Subnet[]> {
  const subnets: Subnet[] = [];
  try {
    const pages = paginateDescribeSubnets(
      { client, pageSize: 1000 },
      { Filters: [{ Name: "vpc-id", Values: [vpcId] }] },
    );
    for await (const page of pages) subnets.push(...(page.Subnets ?? []));
  } catch {
    return [];
  }
  return subnets;
}

/** One check per configured resource besides the VPC. */
export function resourceChecks(client: EC2Client, fleet: FleetConfig): Check[] {
  const checks: Check[] = [];
  const { launchTemplate } = fleet;
  const { networkAclId, routeTableId, vpcId } = fleet.network;
  if (launchTemplate !== undefined) {
    checks.push(() =>
      lookUp(`launch template ${launchTemplate}`, async () => {
        const out = await client.send(
          new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [launchTemplate] }),
        );
        return (out.LaunchTemplates?.length ?? 0) > 0;
      }),
    );
  }
  for (const image of new Set(fleet.pools.map((pool) => pool.image))) {
    checks.push(() => checkImage(client, image));
  }
  if (networkAclId !== undefined) {
    checks.push(() =>
      inVpc(`network ACL ${networkAclId}`, vpcId, async () => {
        const out = await client.send(
          new DescribeNetworkAclsCommand({ NetworkAclIds: [networkAclId] }),
        );
        return out.NetworkAcls?.[0]?.VpcId;
      }),
    );
  }
  if (routeTableId !== undefined) {
    checks.push(() =>
      inVpc(`route table ${routeTableId}`, vpcId, async () => {
        const out = await client.send(
          new DescribeRouteTablesCommand({ RouteTableIds: [routeTableId] }),
        );
        return out.RouteTables?.[0]?.VpcId;
      }),
    );
  }
  return checks;
}

/**
 * An `ssm:` image is resolved by EC2 at each launch (RunInstances takes `resolve:ssm:`);
 * DescribeImages takes AMI IDs only, and mayfly has no Systems Manager client, so the
 * parameter is not read here: the RunInstances dry run, which names it, is the check.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-systems-manager-parameter-to-find-AMI.html
 */
async function checkImage(client: EC2Client, image: string): Promise<DoctorCheck> {
  const check = `image ${image}`;
  if (image.startsWith("ssm:")) {
    return warn(check, "an SSM parameter, resolved by EC2 at launch; not read here");
  }
  return lookUp(check, async () => {
    const out = await client.send(new DescribeImagesCommand({ ImageIds: [image] }));
    return (out.Images ?? []).some((i) => i.ImageId === image && i.State !== "deregistered");
  });
}

async function lookUp(check: string, exists: () => Promise<boolean>): Promise<DoctorCheck> {
  try {
    return (await exists()) ? ok(check) : missing(check, "AWS lists no such resource");
  } catch (error) {
    return failed(check, error);
  }
}

async function inVpc(
  check: string,
  vpcId: string,
  vpcOf: () => Promise<string | undefined>,
): Promise<DoctorCheck> {
  try {
    const found = await vpcOf();
    if (found === undefined) return missing(check, "AWS lists no such resource");
    return found === vpcId ? ok(check) : missing(check, `it belongs to ${found}, not ${vpcId}`);
  } catch (error) {
    return failed(check, error);
  }
}
