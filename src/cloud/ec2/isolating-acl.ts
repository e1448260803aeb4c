import {
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type NetworkAclEntry,
} from "@aws-sdk/client-ec2";
import { CloudError } from "../../errors.js";
import { cloudErrorOf, ec2ErrorCode } from "./ec2-errors.js";
import { type AclEntry, type Egress, networkAclEntries } from "./network-acl-entries.js";
import { FLEET_TAG } from "./run-instances-input.js";

/** The tag that tells a fleet's isolating ACL from the VPC's other ACLs. */
export const ROLE_TAG = "mayfly:role";
export const ISOLATION_ROLE = "runner-isolation";

export interface IsolatingAclOptions {
  readonly client: EC2Client;
  readonly fleet: string;
  readonly vpcId: string;
  readonly egress: Egress;
}

/**
 * Finds the fleet's isolating network ACL in the VPC, or creates it, and adds any of its
 * rules that are missing (a controller that stopped halfway through leaves an ACL with
 * fewer rules; the denials come first, so such an ACL is never more open than intended).
 * When replicas race, each may create one; all then pick the lowest ID.
 */
export async function findOrCreateIsolatingAcl(options: IsolatingAclOptions): Promise<string> {
  const { client, fleet, vpcId } = options;
  let found: Awaited<ReturnType<typeof findAcl>>;
  try {
    found = await findAcl(client, fleet, vpcId);
  } catch (error) {
    throw cloudErrorOf(error, `looking up the isolating network ACL in ${vpcId}`);
  }
  const aclId = found?.aclId ?? (await createAcl(options));
  const wanted = networkAclEntries(await vpcCidrs(client, vpcId), options.egress);
  const have = new Set((found?.entries ?? []).map(entryKey));
  for (const entry of wanted) {
    if (!have.has(entryKey(entry))) await createEntry(client, aclId, entry);
  }
  return aclId;
}

async function findAcl(client: EC2Client, fleet: string, vpcId: string) {
  const out = await client.send(
    new DescribeNetworkAclsCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: `tag:${FLEET_TAG}`, Values: [fleet] },
        { Name: `tag:${ROLE_TAG}`, Values: [ISOLATION_ROLE] },
      ],
    }),
  );
  const [first] = (out.NetworkAcls ?? [])
    .filter((acl) => acl.NetworkAclId !== undefined)
    .sort((a, b) => (a.NetworkAclId as string).localeCompare(b.NetworkAclId as string));
  return first === undefined
    ? undefined
    : { aclId: first.NetworkAclId as string, entries: first.Entries ?? [] };
}

/** The VPC's IPv4 blocks in use: a block being disassociated no longer needs denying. */
async function vpcCidrs(client: EC2Client, vpcId: string): Promise<string[]> {
  try {
    const out = await client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    const blocks = (out.Vpcs?.[0]?.CidrBlockAssociationSet ?? [])
      .filter((b) => b.CidrBlockState?.State === "associated" && b.CidrBlock !== undefined)
      .map((b) => b.CidrBlock as string);
    if (blocks.length === 0) throw new CloudError(`VPC ${vpcId} has no associated IPv4 block`);
    return blocks;
  } catch (error) {
    if (error instanceof CloudError) throw error;
    throw cloudErrorOf(error, `reading the CIDR blocks of ${vpcId}`);
  }
}

async function createAcl(options: IsolatingAclOptions): Promise<string> {
  try {
    // Tagged in the same call, so no ACL of ours ever exists untagged (and unfindable).
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAcl.html
    const out = await options.client.send(
      new CreateNetworkAclCommand({
        VpcId: options.vpcId,
        TagSpecifications: [
          {
            ResourceType: "network-acl",
            Tags: [
              { Key: FLEET_TAG, Value: options.fleet },
              { Key: ROLE_TAG, Value: ISOLATION_ROLE },
              { Key: "Name", Value: `${options.fleet}-runner-isolation` },
            ],
          },
        ],
      }),
    );
    const id = out.NetworkAcl?.NetworkAclId;
    if (id === undefined) throw new CloudError("CreateNetworkAcl answered without an ACL ID");
    return id;
  } catch (error) {
    if (error instanceof CloudError) throw error;
    throw cloudErrorOf(error, `creating the isolating network ACL in ${options.vpcId}`);
  }
}

async function createEntry(client: EC2Client, aclId: string, entry: AclEntry): Promise<void> {
  try {
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: aclId,
        RuleNumber: entry.ruleNumber,
        Egress: entry.egress,
        RuleAction: entry.ruleAction,
        Protocol: entry.protocol,
        CidrBlock: entry.cidrBlock,
        ...(entry.portRange === undefined
          ? {}
          : { PortRange: { From: entry.portRange.from, To: entry.portRange.to } }),
      }),
    );
  } catch (error) {
    // Another replica added the same rule meanwhile.
    if (ec2ErrorCode(error) === "NetworkAclEntryAlreadyExists") return;
    throw cloudErrorOf(error, `adding rule ${entry.ruleNumber} to network ACL ${aclId}`);
  }
}

function entryKey(entry: AclEntry | NetworkAclEntry): string {
  const rule = "ruleNumber" in entry ? entry.ruleNumber : entry.RuleNumber;
  const egress = "egress" in entry ? entry.egress : entry.Egress;
  return `${rule}/${egress === true ? "out" : "in"}`;
}
