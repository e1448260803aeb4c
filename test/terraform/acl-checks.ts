import {
  type Body,
  blocksWithDynamic,
  expand,
  referencedNames,
  resources,
  type Terraform,
} from "./hcl.js";

interface AclRule {
  readonly at: string;
  readonly egress: boolean;
  readonly allow: boolean;
  readonly protocol: string;
  readonly cidr: string;
  /** The rule number before any `+ count.index`. */
  readonly number: number;
  readonly fromPort: number | undefined;
}

// What names the VPC's own address blocks in a CIDR expression.
const VPC_CIDR = /vpc_cidr|aws_vpc\.|cidr_block_association/;
// Denied both ways before any allowance, at 100, 101, ... in this order (as
// src/cloud/ec2/network-acl-entries.ts numbers them): RFC 1918, then RFC 6598.
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];
const FIRST_VPC_RULE = 110;

/**
 * The isolating ACL, as src/cloud/ec2/network-acl-entries.ts builds it: every private range
 * (100-103) and every VPC block (110+) denied in and out, before (lower numbers than) any
 * allowance; inbound allowed only to ephemeral ports.
 */
export function networkAclProblems(tf: Terraform): string[] {
  const acls = resources(tf, "aws_network_acl").filter((a) =>
    expand(tf, a.body.tags).includes("mayfly:fleet"),
  );
  if (acls.length === 0) return ["no aws_network_acl tagged mayfly:fleet isolates the runners"];
  return acls.flatMap(({ path, name, body }) => {
    const at = `${path}: aws_network_acl.${name}`;
    const rules = [...inlineRules(at, body), ...separateRules(tf, name)].map((r) => ({
      ...r,
      cidr: expand(tf, r.cidr),
    }));
    const denials = rules.filter((r) => !r.allow && r.protocol === "-1");
    const vpcDenials = denials.filter((r) => VPC_CIDR.test(r.cidr));
    const problems: string[] = [];
    for (const egress of [false, true]) {
      const direction = egress ? "outbound" : "inbound";
      if (!vpcDenials.some((r) => r.egress === egress)) {
        problems.push(`${at}: no ${direction} denial of the VPC's blocks`);
      }
      for (const [i, range] of PRIVATE_RANGES.entries()) {
        const denial = denials.find(
          (r) => r.egress === egress && (r.cidr === range || r.cidr.includes(`"${range}"`)),
        );
        if (denial === undefined) problems.push(`${at}: no ${direction} denial of ${range}`);
        else if (ruleNumberOf(denial, denial.cidr, range) !== 100 + i) {
          problems.push(
            `${denial.at}: denies ${range} as rule ${ruleNumberOf(denial, denial.cidr, range)}, not ${100 + i}`,
          );
        }
      }
    }
    for (const rule of vpcDenials.filter((r) => r.number !== FIRST_VPC_RULE)) {
      problems.push(`${rule.at}: VPC denials start at ${rule.number}, not ${FIRST_VPC_RULE}`);
    }
    const lastDenial = Math.max(...denials.map((r) => r.number));
    for (const rule of rules.filter((r) => r.allow)) {
      if (!(rule.number > lastDenial)) problems.push(`${rule.at}: allows before the denials`);
      if (!rule.egress && (rule.protocol === "-1" || (rule.fromPort ?? 0) < 1024)) {
        problems.push(`${rule.at}: allows inbound traffic beyond ephemeral-port replies`);
      }
    }
    return problems;
  });
}

// A rule made for each entry of a list (`base + count.index` over `[...][count.index]`) gives
// the range its position in that list; a single rule its own number.
function ruleNumberOf(rule: AclRule, cidr: string, range: string): number {
  const list = /\(\[([^\]]*)\]\)\[count\.index\]/.exec(cidr);
  if (!list) return rule.number;
  const items = [...(list[1] as string).matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  return rule.number + items.indexOf(range);
}

function separateRules(tf: Terraform, acl: string): AclRule[] {
  return resources(tf, "aws_network_acl_rule")
    .filter((r) => referencedNames(r.body.network_acl_id, "aws_network_acl").includes(acl))
    .map(({ path, name, body }) => ({
      at: `${path}: aws_network_acl_rule.${name}`,
      egress: body.egress === true,
      allow: body.rule_action === "allow",
      protocol: String(body.protocol),
      cidr: String(body.cidr_block ?? ""),
      number: leadingNumber(body.rule_number),
      fromPort: body.from_port === undefined ? undefined : leadingNumber(body.from_port),
    }));
}

function inlineRules(at: string, body: Body): AclRule[] {
  return (["ingress", "egress"] as const).flatMap((direction) =>
    blocksWithDynamic(body, direction).map((rule) => ({
      at: `${at} (${direction})`,
      egress: direction === "egress",
      allow: rule.action === "allow",
      protocol: String(rule.protocol),
      cidr: String(rule.cidr_block ?? ""),
      number: leadingNumber(rule.rule_no),
      fromPort: rule.from_port === undefined ? undefined : leadingNumber(rule.from_port),
    })),
  );
}

function leadingNumber(value: unknown): number {
  const match = /\d+/.exec(String(value));
  return match ? Number(match[0]) : Number.NaN;
}
