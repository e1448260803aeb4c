import { el, items } from "./ec2-xml.js";
import type { SimAclEntry, SimNetworkAcl, SimRouteTable, SimSubnet } from "./sim-subnet.js";

// The shapes below follow the EC2 API Reference's data types (Subnet, NetworkAcl,
// NetworkAclEntry, RouteTable, Vpc), lower-camel-cased as on the wire.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Subnet.html

const OWNER = "123456789012";

/** `<tagSet>` of a resource. */
export function tagSetXml(tags: Readonly<Record<string, string>>): string {
  return items(
    "tagSet",
    Object.entries(tags).map(([k, v]) => `${el("key", k)}${el("value", v)}`),
  );
}

/** One subnet, as CreateSubnet and DescribeSubnets describe it. */
export function subnetXml(s: SimSubnet): string {
  const bits = 32 - Number(s.cidr.split("/")[1]);
  return [
    el("subnetId", s.subnetId),
    el("state", "available"),
    el("vpcId", s.vpcId),
    el("cidrBlock", s.cidr),
    // AWS reserves five addresses in every subnet.
    el("availableIpAddressCount", 2 ** bits - 5),
    el("availabilityZone", s.availabilityZone),
    el("defaultForAz", false),
    el("mapPublicIpOnLaunch", s.mapPublicIpOnLaunch),
    el("ownerId", OWNER),
    tagSetXml(s.tags),
  ].join("");
}

function entryXml(e: SimAclEntry): string {
  const range =
    e.portRange === undefined
      ? ""
      : `<portRange>${el("from", e.portRange.from)}${el("to", e.portRange.to)}</portRange>`;
  return [
    el("ruleNumber", e.ruleNumber),
    el("protocol", e.protocol),
    el("ruleAction", e.ruleAction),
    el("egress", e.egress),
    el("cidrBlock", e.cidrBlock),
    range,
  ].join("");
}

/** One network ACL, as CreateNetworkAcl and DescribeNetworkAcls describe it. */
export function networkAclXml(a: SimNetworkAcl): string {
  return [
    el("networkAclId", a.networkAclId),
    el("vpcId", a.vpcId),
    el("default", a.isDefault),
    items("entrySet", a.entries.map(entryXml)),
    items(
      "associationSet",
      a.associations.map(
        (x) =>
          `${el("networkAclAssociationId", x.associationId)}${el("networkAclId", a.networkAclId)}${el("subnetId", x.subnetId)}`,
      ),
    ),
    tagSetXml(a.tags),
    el("ownerId", OWNER),
  ].join("");
}

/** One route table with its associations (routes are not modelled). */
export function routeTableXml(t: SimRouteTable, vpcId: string): string {
  const associated = "<associationState><state>associated</state></associationState>";
  const assoc = t.associations.map(
    (x) =>
      `${el("routeTableAssociationId", x.associationId)}${el("routeTableId", t.routeTableId)}${el("subnetId", x.subnetId)}${el("main", false)}${associated}`,
  );
  return [
    el("routeTableId", t.routeTableId),
    el("vpcId", vpcId),
    el("ownerId", OWNER),
    items("associationSet", assoc),
    items("routeSet", []),
    tagSetXml({}),
  ].join("");
}

/** The VPC, as DescribeVpcs describes it. */
export function vpcXml(vpcId: string, cidrs: readonly string[]): string {
  const blocks = cidrs.map(
    (c, i) =>
      `${el("cidrBlock", c)}${el("associationId", `vpc-cidr-assoc-${String(i).padStart(8, "0")}`)}<cidrBlockState><state>associated</state></cidrBlockState>`,
  );
  return [
    el("vpcId", vpcId),
    el("ownerId", OWNER),
    el("state", "available"),
    el("cidrBlock", cidrs[0]),
    items("cidrBlockAssociationSet", blocks),
    el("instanceTenancy", "default"),
    el("isDefault", false),
    tagSetXml({}),
  ].join("");
}
