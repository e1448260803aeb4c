import { listOf, type Params, structsOf } from "./query-params.js";
import { SimEc2Error } from "./sim-ec2-state.js";
import type { SimNetworkAcl, SimSubnet } from "./sim-subnet.js";

// Filters, paging and "not found" answers shared by the simulated VPC's Describe actions.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#query-filtering

export function notFound(code: string, kind: string, id: string | undefined): never {
  throw new SimEc2Error(code, `The ${kind} ID '${id ?? ""}' does not exist`);
}

export function filtersOf(p: Params): { name: string; values: string[] }[] {
  return structsOf(p, "Filter").map((f) => ({
    name: f.Name ?? "",
    values: listOf(new Map(Object.entries(f)), "Value"),
  }));
}

export function subnetField(s: SimSubnet, name: string): string | undefined {
  if (name.startsWith("tag:")) return s.tags[name.slice(4)];
  if (name === "vpc-id") return s.vpcId;
  if (name === "subnet-id") return s.subnetId;
  if (name === "availability-zone") return s.availabilityZone;
  if (name === "cidr-block") return s.cidr;
  return undefined;
}

export function aclMatches(a: SimNetworkAcl, name: string, value: string): boolean {
  if (name.startsWith("tag:")) return a.tags[name.slice(4)] === value;
  if (name === "vpc-id") return a.vpcId === value;
  if (name === "network-acl-id") return a.networkAclId === value;
  if (name === "default") return String(a.isDefault) === value;
  if (name === "association.subnet-id") return a.associations.some((x) => x.subnetId === value);
  return false;
}

/** EC2's paging: MaxResults 5 to 1000, not with IDs; NextToken is opaque (an offset here). */
export function paged<T>(
  p: Params,
  all: readonly T[],
  withIds: boolean,
): { page: T[]; next?: string } {
  const size = Number(p.get("MaxResults") ?? all.length);
  if (p.has("MaxResults") && (size < 5 || size > 1000 || withIds)) {
    throw new SimEc2Error("InvalidParameterValue", "MaxResults must be 5 to 1000, without IDs");
  }
  const start = Number(p.get("NextToken") ?? 0);
  const end = start + size;
  return end < all.length
    ? { page: all.slice(start, end), next: String(end) }
    : { page: all.slice(start, end) };
}
