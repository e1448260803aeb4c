/** Internet paths a fleet's runner subnets may take (the fleet file's `network.egress`). */
export type Egress = "nat" | "direct" | "none";

/** One network ACL rule, in the words of CreateNetworkAclEntry. */
export interface AclEntry {
  readonly ruleNumber: number;
  readonly egress: boolean;
  readonly ruleAction: "allow" | "deny";
  /** IANA protocol number as a string; "-1" is every protocol. */
  readonly protocol: "-1" | "6" | "17";
  readonly cidrBlock: string;
  readonly portRange?: { readonly from: number; readonly to: number };
}

const ANYWHERE = "0.0.0.0/0";
// Ephemeral ports of the answers runners receive: Linux uses 32768-60999, NAT gateways
// 1024-65535, so the wider range is allowed.
// https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html
const EPHEMERAL = { from: 1024, to: 65535 } as const;

/**
 * The rules of a fleet's isolating ACL. Rules are evaluated lowest number first, so the
 * denials of the VPC's own blocks (100, 101, ...) win over the internet allowances (200+):
 * a runner reaches neither its neighbours nor the controller, only the internet. ACLs are
 * stateless, hence the inbound rules for return traffic.
 * https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
 */
export function networkAclEntries(vpcCidrs: readonly string[], egress: Egress): AclEntry[] {
  if (vpcCidrs.length > 99) throw new RangeError("at most 99 VPC CIDR blocks fit below rule 200");
  const denials = vpcCidrs.flatMap((cidrBlock, i) =>
    [true, false].map(
      (out): AclEntry => ({
        ruleNumber: 100 + i,
        egress: out,
        ruleAction: "deny",
        protocol: "-1",
        cidrBlock,
      }),
    ),
  );
  if (egress === "none") return denials;
  return [
    ...denials,
    { ruleNumber: 200, egress: true, ruleAction: "allow", protocol: "-1", cidrBlock: ANYWHERE },
    {
      ruleNumber: 200,
      egress: false,
      ruleAction: "allow",
      protocol: "6",
      cidrBlock: ANYWHERE,
      portRange: EPHEMERAL,
    },
    {
      ruleNumber: 210,
      egress: false,
      ruleAction: "allow",
      protocol: "17",
      cidrBlock: ANYWHERE,
      portRange: EPHEMERAL,
    },
  ];
}
