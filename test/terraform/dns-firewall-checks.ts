import { expand, referencedNames, resources, type Terraform, variable } from "./hcl.js";

const PARTS = [
  "aws_route53_resolver_firewall_rule_group",
  "aws_route53_resolver_firewall_domain_list",
  "aws_route53_resolver_firewall_rule",
  "aws_route53_resolver_firewall_rule_group_association",
  "aws_route53_resolver_firewall_config",
] as const;

/**
 * The optional DNS Firewall: every part made only when runner_dns_firewall asks for it,
 * attached to the runners' VPC, failing closed unless fail_open (default false) says
 * otherwise; in allow-list mode a catch-all block ("*") after every allowance.
 */
export function dnsFirewallProblems(tf: Terraform): string[] {
  const problems: string[] = [];
  const settings = variable(tf, "runner_dns_firewall");
  if (settings === undefined) return ["no variable runner_dns_firewall"];
  if (!/fail_open\s*=\s*optional\(bool,\s*false\)/.test(String(settings.type))) {
    problems.push("runner_dns_firewall: fail_open does not default to false");
  }
  for (const type of PARTS) {
    const found = resources(tf, type);
    if (found.length === 0) problems.push(`no ${type}`);
    for (const { path, name, body } of found) {
      const gate = expand(tf, body.count ?? body.for_each ?? "");
      if (!gate.includes("var.runner_dns_firewall")) {
        problems.push(`${path}: ${type}.${name}: made whatever runner_dns_firewall says`);
      }
    }
  }
  for (const [type, attribute] of [
    ["aws_route53_resolver_firewall_rule_group_association", "vpc_id"],
    ["aws_route53_resolver_firewall_config", "resource_id"],
  ] as const) {
    for (const { path, name, body } of resources(tf, type)) {
      if (!/local\.vpc_id|aws_vpc\./.test(String(body[attribute]))) {
        problems.push(`${path}: ${type}.${name}: not on the runners' VPC`);
      }
    }
  }
  for (const { path, name, body } of resources(tf, "aws_route53_resolver_firewall_config")) {
    const mode = String(body.firewall_fail_open);
    const closed = mode === "DISABLED" || /fail_open\s*\?\s*"ENABLED"\s*:\s*"DISABLED"/.test(mode);
    if (!closed) problems.push(`${path}: config.${name}: fails open unless fail_open is set`);
  }
  problems.push(...catchAllProblems(tf));
  return problems;
}

// Allowances, if any, must be followed (a higher priority number) by a block of "*".
function catchAllProblems(tf: Terraform): string[] {
  const everything = new Set(
    resources(tf, "aws_route53_resolver_firewall_domain_list")
      .filter((l) => JSON.stringify(l.body.domains) === '["*"]')
      .map((l) => l.name),
  );
  const rules = resources(tf, "aws_route53_resolver_firewall_rule").map(({ path, name, body }) => ({
    at: `${path}: aws_route53_resolver_firewall_rule.${name}`,
    action: String(body.action),
    priority: Number(body.priority),
    lists: referencedNames(
      body.firewall_domain_list_id,
      "aws_route53_resolver_firewall_domain_list",
    ),
  }));
  const allows = rules.filter((r) => r.action === "ALLOW");
  if (allows.length === 0) return [];
  const catchAll = rules.filter(
    (r) => r.action === "BLOCK" && r.lists.some((l) => everything.has(l)),
  );
  if (catchAll.length === 0) return ["allowed domains without a block of everything else"];
  const lastAllow = Math.max(...allows.map((r) => r.priority));
  return catchAll
    .filter((r) => !(r.priority > lastAllow))
    .map((r) => `${r.at}: blocks everything before the allowed domains are let through`);
}
