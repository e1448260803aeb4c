/** One rule of a simulated network ACL, as CreateNetworkAclEntry received it. */
export interface SimAclEntry {
  readonly ruleNumber: number;
  readonly egress: boolean;
  readonly ruleAction: string;
  readonly protocol: string;
  readonly cidrBlock: string;
  readonly portRange?: { readonly from: number; readonly to: number };
}

/** What the simulated EC2 keeps about one network ACL, as tests inspect it. */
export interface SimNetworkAcl {
  readonly networkAclId: string;
  readonly vpcId: string;
  readonly isDefault: boolean;
  readonly tags: Readonly<Record<string, string>>;
  readonly entries: SimAclEntry[];
  readonly associations: { associationId: string; subnetId: string }[];
}

/** What the simulated EC2 keeps about one subnet, as tests inspect it. */
export interface SimSubnet {
  readonly subnetId: string;
  readonly vpcId: string;
  readonly cidr: string;
  readonly availabilityZone: string;
  readonly tags: Readonly<Record<string, string>>;
  mapPublicIpOnLaunch: boolean;
  /** The route table explicitly associated with it; null: the VPC's main one. */
  routeTableId: string | null;
}

/** A route table of the simulated VPC: only its subnet associations are modelled. */
export interface SimRouteTable {
  readonly routeTableId: string;
  readonly main: boolean;
  readonly associations: { associationId: string; subnetId: string }[];
}
