import {
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type NetworkAclEntry,
  ReplaceNetworkAclEntryCommand,
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
 * Finds the fleet's isolating network ACL in the VPC, or creates it, and brings its rules
 * to what `networkAclEntries` wants for the VPC's blocks now (a block associated since is
 * denied at the next call; a controller that stopped halfway left fewer rules). Missing rules
 * are added first, then a rule number that holds another rule is replaced. Every rule below
 * the allowances is a denial, so the ACL is never more open than intended while this runs.
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
  const have = new Map((found?.entries ?? []).map((e) => [slotOf(e), contentOf(e)]));
  const differing = wanted.filter(
    (e) => have.has(slotOf(e)) && have.get(slotOf(e)) !== contentOf(e),
  );
  for (const entry of wanted.filter((e) => !have.has(slotOf(e)))) {
    await writeEntry(client, aclId, entry, "create");
  }
  for (const entry of differing) await writeEntry(client, aclId, entry, "replace");
  return aclId;
}

/** The fleet's own isolating ACL in the VPC, with its rules; undefined before the first. */
export async function findAcl(client: EC2Client, fleet: string, vpcId: string) {
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
export async function vpcCidrs(client: EC2Client, vpcId: string): Promise<string[]> {
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

async function writeEntry(
  client: EC2Client,
  aclId: string,
  entry: AclEntry,
  how: "create" | "replace",
): Promise<void> {
  const input = {
    NetworkAclId: aclId,
    RuleNumber: entry.ruleNumber,
    Egress: entry.egress,
    RuleAction: entry.ruleAction,
    Protocol: entry.protocol,
    CidrBlock: entry.cidrBlock,
    ...(entry.portRange === undefined
      ? {}
      : { PortRange: { From: entry.portRange.from, To: entry.portRange.to } }),
  };
  try {
    await client.send(
      how === "create"
        ? new CreateNetworkAclEntryCommand(input)
        : new ReplaceNetworkAclEntryCommand(input),
    );
  } catch (error) {
    // Another replica added a rule with this number meanwhile: the next sync compares it.
    if (how === "create" && ec2ErrorCode(error) === "NetworkAclEntryAlreadyExists") return;
    throw cloudErrorOf(error, `writing rule ${entry.ruleNumber} of network ACL ${aclId}`);
  }
}

/** Where a rule sits: its number and direction (one rule per slot). */
function slotOf(entry: AclEntry | NetworkAclEntry): string {
  const rule = "ruleNumber" in entry ? entry.ruleNumber : entry.RuleNumber;
  const egress = "egress" in entry ? entry.egress : entry.Egress;
  return `${rule}/${egress === true ? "out" : "in"}`;
}

/** What a rule does, in one comparable string. */
function contentOf(entry: AclEntry | NetworkAclEntry): string {
  const plain: AclEntry =
    "ruleNumber" in entry
      ? entry
      : {
          ruleNumber: entry.RuleNumber ?? 0,
          egress: entry.Egress === true,
          ruleAction: entry.RuleAction === "allow" ? "allow" : "deny",
          protocol: (entry.Protocol ?? "-1") as AclEntry["protocol"],
          cidrBlock: entry.CidrBlock ?? "",
          ...(entry.PortRange === undefined
            ? {}
            : { portRange: { from: entry.PortRange.From ?? 0, to: entry.PortRange.To ?? 0 } }),
        };
  const ports =
    plain.portRange === undefined ? "" : `${plain.portRange.from}-${plain.portRange.to}`;
  return `${plain.ruleAction} ${plain.protocol} ${plain.cidrBlock} ${ports}`;
}
