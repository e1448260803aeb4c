import {
  AssociateRouteTableCommand,
  CreateSubnetCommand,
  DeleteSubnetCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  ModifySubnetAttributeCommand,
  paginateDescribeSubnets,
  ReplaceNetworkAclAssociationCommand,
  type Subnet,
} from "@aws-sdk/client-ec2";
import { CloudConflictError, CloudError } from "../../errors.js";
import type { CloudSubnet } from "../cloud.js";
import { cloudErrorOf, ec2ErrorCode } from "./ec2-errors.js";
import { findOrCreateIsolatingAcl } from "./isolating-acl.js";
import type { Egress } from "./network-acl-entries.js";
import { FLEET_TAG } from "./run-instances-input.js";

/** The fleet file's `network` as the EC2 adapter needs it. */
export interface Ec2NetworkConfig {
  readonly vpcId: string;
  readonly egress: Egress;
  readonly routeTableId?: string;
  /** Terraform's isolating ACL; absent: the fleet's own is found or created. */
  readonly networkAclId?: string;
  readonly securityGroupIds?: readonly string[];
}

export interface Ec2NetworkOptions {
  readonly client: EC2Client;
  readonly fleet: string;
  readonly network: Ec2NetworkConfig;
  /** DescribeSubnets page size, 5 to 1000. */
  readonly pageSize?: number;
  /** How often the fleet's own ACL is brought in step with the VPC's blocks; 10 min. */
  readonly aclSyncMs?: number;
  readonly now?: () => number;
}

// A CIDR block associated with the VPC later is denied by the fleet's own ACL within this.
const ACL_SYNC_MS = 10 * 60_000;

/** The runner-subnet half of the EC2 adapter: each subnet tagged, behind the fleet's ACL. */
export class Ec2Network {
  readonly #client: EC2Client;
  readonly #fleet: string;
  readonly #net: Ec2NetworkConfig;
  readonly #pageSize: number;
  readonly #aclSyncMs: number;
  readonly #now: () => number;
  #acl: Promise<string> | undefined;
  #aclSyncedAt = 0;

  constructor(options: Ec2NetworkOptions) {
    this.#client = options.client;
    this.#fleet = options.fleet;
    this.#net = options.network;
    this.#pageSize = options.pageSize ?? 1000;
    this.#aclSyncMs = options.aclSyncMs ?? ACL_SYNC_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The isolating ACL's ID. The fleet's own ACL is looked up (and its rules brought in step
   * with the VPC's blocks) on first use and again every `aclSyncMs`; a failed lookup is
   * retried at the next call. A configured ACL is Terraform's, used as it is.
   */
  isolatingAcl(): Promise<string> {
    if (this.#net.networkAclId !== undefined) return Promise.resolve(this.#net.networkAclId);
    const now = this.#now();
    if (this.#acl === undefined || now - this.#aclSyncedAt >= this.#aclSyncMs) {
      const { vpcId, egress } = this.#net;
      const lookup = findOrCreateIsolatingAcl({
        client: this.#client,
        fleet: this.#fleet,
        vpcId,
        egress,
      });
      this.#acl = lookup;
      this.#aclSyncedAt = now;
      lookup.catch(() => {
        if (this.#acl === lookup) this.#acl = undefined;
      });
    }
    return this.#acl;
  }

  /**
   * Every runner subnet of the fleet. One pass makes 2 calls per 1000 subnets
   * (DescribeSubnets, then one DescribeNetworkAcls for all), plus one DescribeRouteTables
   * when a route table is configured, plus the ACL lookup on first use.
   */
  async listSubnets(): Promise<CloudSubnet[]> {
    const subnets: Subnet[] = [];
    const pages = paginateDescribeSubnets(
      { client: this.#client, pageSize: this.#pageSize },
      {
        Filters: [
          { Name: "vpc-id", Values: [this.#net.vpcId] },
          { Name: `tag:${FLEET_TAG}`, Values: [this.#fleet] },
        ],
      },
    );
    try {
      for await (const page of pages) subnets.push(...(page.Subnets ?? []));
    } catch (error) {
      throw cloudErrorOf(error, `listing the runner subnets of ${this.#net.vpcId}`);
    }
    if (subnets.length === 0) return [];
    const behindAcl = await this.#aclSubnets();
    const routed = await this.#routedSubnets();
    return subnets.map((s) => {
      const id = s.SubnetId ?? "";
      // With direct egress, a subnet that does not give VMs a public IP has no way out.
      const publicIp = this.#net.egress !== "direct" || s.MapPublicIpOnLaunch === true;
      return {
        subnetId: id,
        cidr: s.CidrBlock ?? "",
        availabilityZone: s.AvailabilityZone ?? "",
        isolated: behindAcl.has(id) && (routed?.has(id) ?? true) && publicIp,
      };
    });
  }

  /** Creates a tagged runner subnet in the zone, then isolates it. */
  async createSubnet(cidr: string, availabilityZone: string): Promise<CloudSubnet> {
    // Made sure of first: a subnet is never created when its ACL cannot be.
    await this.isolatingAcl();
    let subnet: Subnet | undefined;
    try {
      const out = await this.#client.send(
        new CreateSubnetCommand({
          VpcId: this.#net.vpcId,
          CidrBlock: cidr,
          AvailabilityZone: availabilityZone,
          TagSpecifications: [
            {
              ResourceType: "subnet",
              Tags: [
                { Key: FLEET_TAG, Value: this.#fleet },
                { Key: "Name", Value: `${this.#fleet}-runner` },
              ],
            },
          ],
        }),
      );
      subnet = out.Subnet;
    } catch (error) {
      throw createError(error, cidr, availabilityZone);
    }
    const subnetId = subnet?.SubnetId;
    if (subnetId === undefined) throw new CloudError("CreateSubnet answered without a subnet ID");
    // Should this fail, the subnet exists tagged but open; listSubnets reports it as not
    // isolated and the subnet keeper isolates it before any VM is launched into it.
    await this.#isolate(subnetId, true);
    return { subnetId, cidr, availabilityZone, isolated: true };
  }

  /** Gives a subnet the fleet's ACL, route table and public IP setting; only what is missing. */
  isolateSubnet(subnetId: string): Promise<void> {
    return this.#isolate(subnetId, false);
  }

  /** Deletes a runner subnet; one already gone counts as deleted. */
  async deleteSubnet(subnetId: string): Promise<void> {
    try {
      await this.#client.send(new DeleteSubnetCommand({ SubnetId: subnetId }));
    } catch (error) {
      const code = ec2ErrorCode(error);
      if (code === "InvalidSubnetID.NotFound") return;
      if (code === "DependencyViolation") {
        throw new CloudError(
          `subnet ${subnetId} still has an instance (or its network interface) in it`,
          { cause: error },
        );
      }
      throw cloudErrorOf(error, `deleting subnet ${subnetId}`);
    }
  }

  /**
   * A new subnet (`fresh`) has the VPC's default ACL, the main route table and no public
   * IPs, so only the ACL association (whose ID must be read) is looked up; for any other,
   * each setting is read first so that an isolated subnet gets no mutating call.
   */
  async #isolate(subnetId: string, fresh: boolean): Promise<void> {
    const acl = await this.isolatingAcl();
    try {
      const out = await this.#client.send(
        new DescribeNetworkAclsCommand({
          Filters: [{ Name: "association.subnet-id", Values: [subnetId] }],
        }),
      );
      const current = (out.NetworkAcls ?? [])
        .flatMap((a) => a.Associations ?? [])
        .find((a) => a.SubnetId === subnetId);
      if (current?.NetworkAclAssociationId === undefined) {
        throw new CloudError(`subnet ${subnetId} has no network ACL association`);
      }
      // Every subnet is associated with exactly one ACL; it is replaced, never added.
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceNetworkAclAssociation.html
      if (current.NetworkAclId !== acl) {
        await this.#client.send(
          new ReplaceNetworkAclAssociationCommand({
            AssociationId: current.NetworkAclAssociationId,
            NetworkAclId: acl,
          }),
        );
      }
      await this.#routeAndAddress(subnetId, fresh);
    } catch (error) {
      if (error instanceof CloudError) throw error;
      throw cloudErrorOf(error, `isolating subnet ${subnetId}`);
    }
  }

  async #routeAndAddress(subnetId: string, fresh: boolean): Promise<void> {
    const { routeTableId, egress } = this.#net;
    if (routeTableId !== undefined && (fresh || !(await this.#routedSubnets())?.has(subnetId))) {
      try {
        await this.#client.send(
          new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetId }),
        );
      } catch (error) {
        if (ec2ErrorCode(error) !== "Resource.AlreadyAssociated") throw error;
      }
    }
    if (egress === "direct" && (fresh || !(await this.#mapsPublicIp(subnetId)))) {
      // Direct egress goes through an internet gateway, which needs a public IP per VM.
      // https://docs.aws.amazon.com/vpc/latest/userguide/modify-subnets.html
      await this.#client.send(
        new ModifySubnetAttributeCommand({
          SubnetId: subnetId,
          MapPublicIpOnLaunch: { Value: true },
        }),
      );
    }
  }

  async #mapsPublicIp(subnetId: string): Promise<boolean> {
    const out = await this.#client.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
    return out.Subnets?.[0]?.MapPublicIpOnLaunch === true;
  }

  /** Subnets behind the fleet's ACL, from one DescribeNetworkAcls call. */
  async #aclSubnets(): Promise<Set<string>> {
    const acl = await this.isolatingAcl();
    try {
      const out = await this.#client.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [acl] }));
      const assoc = out.NetworkAcls?.flatMap((a) => a.Associations ?? []) ?? [];
      return new Set(assoc.map((a) => a.SubnetId ?? ""));
    } catch (error) {
      throw cloudErrorOf(error, `reading network ACL ${acl}`);
    }
  }

  /** Subnets associated with the configured route table; undefined when none is set. */
  async #routedSubnets(): Promise<Set<string> | undefined> {
    const { routeTableId } = this.#net;
    if (routeTableId === undefined) return undefined;
    try {
      const out = await this.#client.send(
        new DescribeRouteTablesCommand({ RouteTableIds: [routeTableId] }),
      );
      const assoc = out.RouteTables?.flatMap((t) => t.Associations ?? []) ?? [];
      return new Set(assoc.map((a) => a.SubnetId ?? ""));
    } catch (error) {
      throw cloudErrorOf(error, `reading route table ${routeTableId}`);
    }
  }
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
function createError(error: unknown, cidr: string, zone: string): Error {
  const code = ec2ErrorCode(error);
  const what = `creating subnet ${cidr} in ${zone}`;
  if (code === "InvalidSubnet.Conflict") {
    return new CloudConflictError(`${what}: the CIDR overlaps an existing subnet`, {
      cause: error,
    });
  }
  if (code === "SubnetLimitExceeded") {
    // https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
    return new CloudError(
      `${what}: the VPC has reached its "Subnets per VPC" quota (200 by default; ask AWS to raise it)`,
      { cause: error },
    );
  }
  return cloudErrorOf(error, what);
}
