import { contains, freeBlocks, overlaps } from "../../core/cidr.js";
import { el, items } from "./ec2-xml.js";
import { listOf, type Params, structsOf, tagsOf } from "./query-params.js";
import { SimEc2Error } from "./sim-ec2-state.js";
import { aclMatches, filtersOf, notFound, paged, subnetField } from "./sim-network-filters.js";
import { networkAclXml, routeTableXml, subnetXml, vpcXml } from "./sim-network-xml.js";
import type { SimAclEntry, SimNetworkAcl, SimRouteTable, SimSubnet } from "./sim-subnet.js";

export interface SimEc2NetworkOptions {
  /** The one VPC the sim has; default "vpc-0511". */
  readonly vpcId?: string;
  /** Its primary IPv4 block; default 10.0.0.0/16. */
  readonly vpcCidr?: string;
  readonly secondaryVpcCidrs?: readonly string[];
  /** Subnet → Availability Zone: subnets that exist at start, each given a free /28. */
  readonly subnets?: Readonly<Record<string, string>>;
  /** The "Subnets per VPC" quota; default 200, as AWS's. */
  readonly subnetLimit?: number;
  /** Route tables besides the VPC's main one. */
  readonly routeTableIds?: readonly string[];
  readonly region?: string;
}

const TRUE = "true";

/** The simulated VPC: its subnets, network ACLs and route table associations. */
export class SimEc2Network {
  readonly vpcId: string;
  readonly #cidrs: string[];
  readonly #subnets = new Map<string, SimSubnet>();
  readonly #acls = new Map<string, SimNetworkAcl>();
  readonly #tables = new Map<string, SimRouteTable>();
  readonly #defaultAcl: SimNetworkAcl;
  #next = 0x511000;

  /** `busy(subnetId)`: whether a VM that is not terminated is in the subnet. */
  constructor(
    private readonly options: SimEc2NetworkOptions,
    private readonly busy: (subnetId: string) => boolean,
  ) {
    this.vpcId = options.vpcId ?? "vpc-0511";
    this.#cidrs = [options.vpcCidr ?? "10.0.0.0/16", ...(options.secondaryVpcCidrs ?? [])];
    // A VPC's default ACL allows everything; each rule 32767 ("*") denies what is left.
    // https://docs.aws.amazon.com/vpc/latest/userguide/default-network-acl.html
    this.#defaultAcl = this.#newAcl(true, {}, [
      {
        ruleNumber: 100,
        egress: true,
        ruleAction: "allow",
        protocol: "-1",
        cidrBlock: "0.0.0.0/0",
      },
      {
        ruleNumber: 100,
        egress: false,
        ruleAction: "allow",
        protocol: "-1",
        cidrBlock: "0.0.0.0/0",
      },
    ]);
    for (const id of ["main", ...(options.routeTableIds ?? [])]) {
      const routeTableId = id === "main" ? this.#id("rtb") : id;
      this.#tables.set(routeTableId, { routeTableId, main: id === "main", associations: [] });
    }
    for (const [subnetId, zone] of Object.entries(options.subnets ?? {})) {
      const [cidr] = freeBlocks(this.#cidrs[0] as string, 28, this.#taken(), 1);
      if (cidr === undefined) throw new Error("the VPC has no room for the seeded subnets");
      this.#addSubnet(subnetId, cidr, zone, {});
    }
  }

  subnet(subnetId: string): SimSubnet | undefined {
    return this.#subnets.get(subnetId);
  }

  subnets(): (SimSubnet & { networkAclId: string })[] {
    return [...this.#subnets.values()].map((s) => ({
      ...s,
      networkAclId: this.#aclOf(s.subnetId),
    }));
  }

  networkAcls(): SimNetworkAcl[] {
    return [...this.#acls.values()];
  }

  /** Associates another IPv4 block with the VPC, as AssociateVpcCidrBlock would. */
  associateVpcCidr(cidr: string): void {
    if (this.#cidrs.some((b) => overlaps(b, cidr))) throw new Error(`${cidr} overlaps the VPC`);
    this.#cidrs.push(cidr);
  }

  /** The actions this class answers, by name. */
  actions(): Record<string, (p: Params) => string> {
    return {
      DescribeVpcs: (p) => this.#describeVpcs(p),
      CreateSubnet: (p) => this.#createSubnet(p),
      DeleteSubnet: (p) => this.#deleteSubnet(p),
      DescribeSubnets: (p) => this.#describeSubnets(p),
      ModifySubnetAttribute: (p) => this.#modifySubnet(p),
      CreateNetworkAcl: (p) => this.#createAcl(p),
      CreateNetworkAclEntry: (p) => this.#createEntry(p),
      ReplaceNetworkAclEntry: (p) => this.#replaceEntry(p),
      DescribeNetworkAcls: (p) => this.#describeAcls(p),
      ReplaceNetworkAclAssociation: (p) => this.#replaceAssociation(p),
      AssociateRouteTable: (p) => this.#associateRouteTable(p),
      DescribeRouteTables: (p) => this.#describeRouteTables(p),
    };
  }

  #describeVpcs(p: Params): string {
    const ids = listOf(p, "VpcId");
    const missing = ids.find((id) => id !== this.vpcId);
    if (missing !== undefined) notFound("InvalidVpcID.NotFound", "vpc", missing);
    return items("vpcSet", [vpcXml(this.vpcId, this.#cidrs)]);
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html
  #createSubnet(p: Params): string {
    const vpcId = p.get("VpcId") ?? "";
    if (vpcId !== this.vpcId) notFound("InvalidVpcID.NotFound", "vpc", vpcId);
    const cidr = p.get("CidrBlock") ?? "";
    const prefix = Number(cidr.split("/")[1]);
    if (!/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(cidr)) {
      throw new SimEc2Error(
        "InvalidParameterValue",
        `Value (${cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
      );
    }
    // Subnets are /16 to /28 and lie inside one of the VPC's blocks.
    if (prefix < 16 || prefix > 28 || !this.#cidrs.some((b) => contains(b, cidr))) {
      throw new SimEc2Error("InvalidSubnet.Range", `The CIDR '${cidr}' is invalid.`);
    }
    if (this.#taken().some((t) => overlaps(t, cidr))) {
      throw new SimEc2Error(
        "InvalidSubnet.Conflict",
        `The CIDR '${cidr}' conflicts with another subnet`,
      );
    }
    const zone = p.get("AvailabilityZone") ?? `${this.#region()}a`;
    if (!new RegExp(`^${this.#region()}[a-f]$`).test(zone)) {
      throw new SimEc2Error(
        "InvalidParameterValue",
        `Value (${zone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${this.#region()}a, ${this.#region()}b, ${this.#region()}c.`,
      );
    }
    if (this.#subnets.size >= (this.options.subnetLimit ?? 200)) {
      throw new SimEc2Error(
        "SubnetLimitExceeded",
        "The maximum number of subnets has been reached.",
      );
    }
    const tags = Object.assign(
      {},
      ...structsOf(p, "TagSpecification")
        .filter((s) => s.ResourceType === "subnet")
        .map(tagsOf),
    );
    const subnet = this.#addSubnet(this.#id("subnet"), cidr, zone, tags);
    return `<subnet>${subnetXml(subnet)}</subnet>`;
  }

  #deleteSubnet(p: Params): string {
    const id = this.#knownSubnet(p.get("SubnetId"));
    if (this.busy(id)) {
      throw new SimEc2Error(
        "DependencyViolation",
        `The subnet '${id}' has dependencies and cannot be deleted.`,
      );
    }
    this.#subnets.delete(id);
    for (const owner of [...this.#acls.values(), ...this.#tables.values()]) {
      const at = owner.associations.findIndex((a) => a.subnetId === id);
      if (at >= 0) owner.associations.splice(at, 1);
    }
    return el("return", true);
  }

  #describeSubnets(p: Params): string {
    const ids = listOf(p, "SubnetId");
    for (const id of ids) this.#knownSubnet(id);
    const matching = [...this.#subnets.values()].filter(
      (s) =>
        (ids.length === 0 || ids.includes(s.subnetId)) &&
        filtersOf(p).every((f) => f.values.includes(subnetField(s, f.name) ?? "\u0000")),
    );
    const { page, next } = paged(p, matching, ids.length > 0);
    return `${items("subnetSet", page.map(subnetXml))}${el("nextToken", next)}`;
  }

  #modifySubnet(p: Params): string {
    const subnet = this.#subnets.get(this.#knownSubnet(p.get("SubnetId")));
    const value = p.get("MapPublicIpOnLaunch.Value");
    if (subnet !== undefined && value !== undefined) subnet.mapPublicIpOnLaunch = value === TRUE;
    return el("return", true);
  }

  #createAcl(p: Params): string {
    const vpcId = p.get("VpcId") ?? "";
    if (vpcId !== this.vpcId) notFound("InvalidVpcID.NotFound", "vpc", vpcId);
    const tags = Object.assign(
      {},
      ...structsOf(p, "TagSpecification")
        .filter((s) => s.ResourceType === "network-acl")
        .map(tagsOf),
    );
    return `<networkAcl>${networkAclXml(this.#newAcl(false, tags, []))}</networkAcl>`;
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAclEntry.html
  #createEntry(p: Params): string {
    const acl = this.#knownAcl(p.get("NetworkAclId"));
    const entry = entryOf(p);
    if (acl.entries.some((e) => e.ruleNumber === entry.ruleNumber && e.egress === entry.egress)) {
      throw new SimEc2Error(
        "NetworkAclEntryAlreadyExists",
        `The network acl entry identified by ${entry.ruleNumber} already exists.`,
      );
    }
    acl.entries.push(entry);
    acl.entries.sort((a, b) => a.ruleNumber - b.ruleNumber);
    return el("return", true);
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceNetworkAclEntry.html
  #replaceEntry(p: Params): string {
    const acl = this.#knownAcl(p.get("NetworkAclId"));
    const entry = entryOf(p);
    const at = acl.entries.findIndex(
      (e) => e.ruleNumber === entry.ruleNumber && e.egress === entry.egress,
    );
    if (at < 0) {
      throw new SimEc2Error(
        "InvalidNetworkAclEntry.NotFound",
        `The network acl entry identified by ${entry.ruleNumber} does not exist.`,
      );
    }
    acl.entries[at] = entry;
    return el("return", true);
  }

  #describeAcls(p: Params): string {
    const ids = listOf(p, "NetworkAclId");
    for (const id of ids) this.#knownAcl(id);
    const matching = [...this.#acls.values()].filter(
      (a) =>
        (ids.length === 0 || ids.includes(a.networkAclId)) &&
        filtersOf(p).every((f) => f.values.some((v) => aclMatches(a, f.name, v))),
    );
    const { page, next } = paged(p, matching, ids.length > 0);
    return `${items("networkAclSet", page.map(networkAclXml))}${el("nextToken", next)}`;
  }

  #replaceAssociation(p: Params): string {
    const target = this.#knownAcl(p.get("NetworkAclId"));
    const associationId = p.get("AssociationId") ?? "";
    for (const acl of this.#acls.values()) {
      const at = acl.associations.findIndex((a) => a.associationId === associationId);
      if (at < 0) continue;
      const [old] = acl.associations.splice(at, 1);
      const newAssociationId = this.#id("aclassoc");
      target.associations.push({ associationId: newAssociationId, subnetId: old?.subnetId ?? "" });
      return el("newAssociationId", newAssociationId);
    }
    return notFound("InvalidAssociationID.NotFound", "association", associationId);
  }

  #associateRouteTable(p: Params): string {
    const tableId = p.get("RouteTableId") ?? "";
    const table = this.#tables.get(tableId);
    if (table === undefined) return notFound("InvalidRouteTableID.NotFound", "routeTable", tableId);
    const subnet = this.#subnets.get(this.#knownSubnet(p.get("SubnetId"))) as SimSubnet;
    if (subnet.routeTableId !== null) {
      throw new SimEc2Error(
        "Resource.AlreadyAssociated",
        `the specified association for route table ${tableId} conflicts with an existing association`,
      );
    }
    subnet.routeTableId = tableId;
    const associationId = this.#id("rtbassoc");
    table.associations.push({ associationId, subnetId: subnet.subnetId });
    return `${el("associationId", associationId)}<associationState><state>associated</state></associationState>`;
  }

  #describeRouteTables(p: Params): string {
    const ids = listOf(p, "RouteTableId");
    const missing = ids.find((id) => !this.#tables.has(id));
    if (missing !== undefined) notFound("InvalidRouteTableID.NotFound", "routeTable", missing);
    const matching = [...this.#tables.values()].filter(
      (t) =>
        (ids.length === 0 || ids.includes(t.routeTableId)) &&
        filtersOf(p).every(
          (f) =>
            f.name === "association.subnet-id" &&
            t.associations.some((a) => f.values.includes(a.subnetId)),
        ),
    );
    return items(
      "routeTableSet",
      matching.map((t) => routeTableXml(t, this.vpcId)),
    );
  }

  #addSubnet(subnetId: string, cidr: string, zone: string, tags: Record<string, string>) {
    const subnet: SimSubnet = {
      subnetId,
      vpcId: this.vpcId,
      cidr,
      availabilityZone: zone,
      tags,
      mapPublicIpOnLaunch: false,
      routeTableId: null,
    };
    this.#subnets.set(subnetId, subnet);
    // A new subnet is associated with the VPC's default ACL.
    this.#defaultAcl.associations.push({ associationId: this.#id("aclassoc"), subnetId });
    return subnet;
  }

  #newAcl(isDefault: boolean, tags: Record<string, string>, rules: SimAclEntry[]) {
    const deny = (egress: boolean): SimAclEntry => ({
      ruleNumber: 32767,
      egress,
      ruleAction: "deny",
      protocol: "-1",
      cidrBlock: "0.0.0.0/0",
    });
    const acl: SimNetworkAcl = {
      networkAclId: this.#id("acl"),
      vpcId: this.vpcId,
      isDefault,
      tags,
      entries: [...rules, deny(true), deny(false)],
      associations: [],
    };
    this.#acls.set(acl.networkAclId, acl);
    return acl;
  }

  #aclOf(subnetId: string): string {
    const acl = [...this.#acls.values()].find((a) =>
      a.associations.some((x) => x.subnetId === subnetId),
    );
    return acl?.networkAclId ?? "";
  }

  #knownSubnet(id: string | undefined): string {
    if (id === undefined || !this.#subnets.has(id))
      notFound("InvalidSubnetID.NotFound", "subnet", id);
    return id as string;
  }

  #knownAcl(id: string | undefined): SimNetworkAcl {
    const acl = id === undefined ? undefined : this.#acls.get(id);
    return acl ?? notFound("InvalidNetworkAclID.NotFound", "networkAcl", id);
  }

  #taken(): string[] {
    return [...this.#subnets.values()].map((s) => s.cidr);
  }

  #region(): string {
    return this.options.region ?? "eu-west-1";
  }

  #id(prefix: string): string {
    this.#next += 1;
    return `${prefix}-${this.#next.toString(16).padStart(17, "0")}`;
  }
}

/** The rule a CreateNetworkAclEntry or ReplaceNetworkAclEntry request describes. */
function entryOf(p: Params): SimAclEntry {
  const ruleNumber = Number(p.get("RuleNumber"));
  if (!Number.isInteger(ruleNumber) || ruleNumber < 1 || ruleNumber > 32766) {
    throw new SimEc2Error("InvalidParameterValue", `Invalid rule number: ${p.get("RuleNumber")}`);
  }
  const from = p.get("PortRange.From");
  const to = p.get("PortRange.To");
  return {
    ruleNumber,
    egress: p.get("Egress") === TRUE,
    ruleAction: p.get("RuleAction") ?? "",
    protocol: p.get("Protocol") ?? "",
    cidrBlock: p.get("CidrBlock") ?? "",
    ...(from === undefined || to === undefined
      ? {}
      : { portRange: { from: Number(from), to: Number(to) } }),
  };
}
