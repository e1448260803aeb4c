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
 * The private ranges a runner never reaches, whatever lies behind the VPC's routes: peered
 * VPCs, transit gateways and on-premises networks are usually numbered from these (RFC 1918
 * and the shared address space of RFC 6598).
 */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];
const PRIVATE_FIRST_RULE = 100;
const VPC_FIRST_RULE = 110;
/** The first rule number of the internet allowances; every denial comes before it. */
export const FIRST_ALLOW_RULE = 200;
const MAX_VPC_BLOCKS = FIRST_ALLOW_RULE - VPC_FIRST_RULE;

/**
 * The rules of a fleet's isolating ACL. Rules are evaluated lowest number first, so the
 * denials of the private ranges (100-103) and of the VPC's own blocks (110, 111, ...),
 * secondary ones included, win over the internet allowances (200+): a runner reaches
 * neither its neighbours, nor the controller, nor a network behind the VPC's routes, only
 * the internet. ACLs are stateless, hence the inbound rules for return traffic.
 * https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
 */
export function networkAclEntries(vpcCidrs: readonly string[], egress: Egress): AclEntry[] {
  if (vpcCidrs.length > MAX_VPC_BLOCKS) {
    throw new RangeError(
      `at most ${MAX_VPC_BLOCKS} VPC CIDR blocks fit below rule ${FIRST_ALLOW_RULE}`,
    );
  }
  const denied = [
    ...PRIVATE_RANGES.map((cidrBlock, i) => ({ cidrBlock, ruleNumber: PRIVATE_FIRST_RULE + i })),
    ...vpcCidrs.map((cidrBlock, i) => ({ cidrBlock, ruleNumber: VPC_FIRST_RULE + i })),
  ];
  const denials = denied.flatMap(({ cidrBlock, ruleNumber }) =>
    [true, false].map(
      (out): AclEntry => ({
        ruleNumber,
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
    {
      ruleNumber: FIRST_ALLOW_RULE,
      egress: true,
      ruleAction: "allow",
      protocol: "-1",
      cidrBlock: ANYWHERE,
    },
    {
      ruleNumber: FIRST_ALLOW_RULE,
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
