import {
  DescribeNatGatewaysCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
  type NetworkAclEntry,
  type Route,
  type RouteTable,
} from "@aws-sdk/client-ec2";
import type { FleetConfig } from "../../config/fleet-schema.js";
import { contains, overlaps } from "../../core/cidr.js";
import { awsMessage, type DoctorCheck, missing, ok, warn } from "./doctor-check.js";
import { findAcl, vpcCidrs } from "./isolating-acl.js";
import { PRIVATE_RANGES } from "./network-acl-entries.js";

/**
 * The runner ACL denies every private range and every block of the VPC, both ways, by a rule
 * numbered before any allowance that reaches it: otherwise a runner reaches its neighbours,
 * the controller, or networks behind the VPC's routes. A configured ACL (Terraform's) is
 * judged as it is; the fleet's own is kept in step by mayfly, and judged too.
 */
export async function checkAclDenials(client: EC2Client, fleet: FleetConfig): Promise<DoctorCheck> {
  const { vpcId, networkAclId } = fleet.network;
  const check = `network ACL denials${networkAclId === undefined ? "" : ` of ${networkAclId}`}`;
  try {
    const entries =
      networkAclId === undefined
        ? (await findAcl(client, fleet.fleet, vpcId))?.entries
        : (await client.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [networkAclId] })))
            .NetworkAcls?.[0]?.Entries;
    if (entries === undefined) {
      return ok(check, "the fleet's ACL is made with its first runner subnet");
    }
    const ranges = [...PRIVATE_RANGES, ...(await vpcCidrs(client, vpcId))];
    const open = ranges.flatMap((range) =>
      [true, false]
        .filter((egress) => !deniedFirst(entries, range, egress))
        .map((egress) => `${range} ${egress ? "outbound" : "inbound"}`),
    );
    if (open.length > 0) {
      return missing(check, `not denied before any allowance: ${open.join(", ")}`);
    }
    return ok(check, `denies ${ranges.join(", ")} both ways`);
  } catch (error) {
    return warn(
      check,
      `could not tell: ${error instanceof Error ? error.message : awsMessage(error)}`,
    );
  }
}

/** Whether a deny of every protocol covering `range` comes before any allowance touching it. */
function deniedFirst(entries: readonly NetworkAclEntry[], range: string, egress: boolean): boolean {
  const rules = entries
    .filter((e) => e.Egress === egress && e.CidrBlock !== undefined)
    .sort((a, b) => (a.RuleNumber ?? 0) - (b.RuleNumber ?? 0));
  for (const rule of rules) {
    const cidr = rule.CidrBlock as string;
    if (rule.RuleAction === "allow" && overlaps(cidr, range)) return false;
    if (rule.RuleAction === "deny" && rule.Protocol === "-1" && contains(cidr, range)) return true;
  }
  return false;
}

/**
 * Routes from the runner subnets' route table, and from the table of each NAT gateway it
 * sends them through, to a transit gateway, a virtual private gateway, a peering connection
 * or a core network: what lies behind them is reachable from a runner unless the ACL denies
 * its range (a peered VPC or on-premises network numbered outside the private ranges is not).
 */
export async function checkPrivateRoutes(
  client: EC2Client,
  fleet: FleetConfig,
): Promise<DoctorCheck> {
  const { vpcId, routeTableId } = fleet.network;
  const check = `routes beyond the VPC from ${routeTableId ?? "the main route table"}`;
  try {
    const runnerTable = await routeTable(client, vpcId, routeTableId, undefined);
    if (runnerTable === undefined) return missing(check, "AWS lists no such route table");
    const tables = [runnerTable];
    const nats = (runnerTable.Routes ?? []).flatMap((r) =>
      r.NatGatewayId ? [r.NatGatewayId] : [],
    );
    if (nats.length > 0) {
      const out = await client.send(new DescribeNatGatewaysCommand({ NatGatewayIds: nats }));
      for (const nat of out.NatGateways ?? []) {
        const table = await routeTable(client, vpcId, undefined, nat.SubnetId);
        if (table !== undefined && !tables.some((t) => t.RouteTableId === table.RouteTableId)) {
          tables.push(table);
        }
      }
    }
    const denied = [...PRIVATE_RANGES, ...(await vpcCidrs(client, vpcId))];
    const found = tables.flatMap((table) =>
      (table.Routes ?? []).flatMap((route) => {
        const target = beyondVpc(route);
        if (target === undefined) return [];
        const to = route.DestinationCidrBlock ?? route.DestinationPrefixListId ?? "?";
        const verdict =
          route.DestinationCidrBlock !== undefined &&
          denied.some((range) => contains(range, route.DestinationCidrBlock as string))
            ? "denied by the runner ACL"
            : "NOT denied by the runner ACL: runners can reach it";
        return [`${table.RouteTableId}: ${to} via ${target} (${verdict})`];
      }),
    );
    if (found.length === 0)
      return ok(check, `none in ${tables.map((t) => t.RouteTableId).join(", ")}`);
    return warn(check, found.join("; "));
  } catch (error) {
    return warn(check, `could not tell: ${awsMessage(error)}`);
  }
}

/** A route's target when it leaves the VPC for another private network. */
function beyondVpc(route: Route): string | undefined {
  if (route.TransitGatewayId) return route.TransitGatewayId;
  if (route.VpcPeeringConnectionId) return route.VpcPeeringConnectionId;
  if (route.GatewayId?.startsWith("vgw-")) return route.GatewayId;
  if (route.CoreNetworkArn) return route.CoreNetworkArn;
  if (route.LocalGatewayId) return route.LocalGatewayId;
  return undefined;
}

/** A route table by ID, else the one associated with `subnetId`, else the VPC's main one. */
async function routeTable(
  client: EC2Client,
  vpcId: string,
  id: string | undefined,
  subnetId: string | undefined,
): Promise<RouteTable | undefined> {
  if (id !== undefined) {
    const out = await client.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }));
    return out.RouteTables?.[0];
  }
  if (subnetId !== undefined) {
    const out = await client.send(
      new DescribeRouteTablesCommand({
        Filters: [{ Name: "association.subnet-id", Values: [subnetId] }],
      }),
    );
    if (out.RouteTables?.[0] !== undefined) return out.RouteTables[0];
  }
  const out = await client.send(
    new DescribeRouteTablesCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: "association.main", Values: ["true"] },
      ],
    }),
  );
  return out.RouteTables?.[0];
}
