# Optional DNS filtering with Route 53 Resolver DNS Firewall. The runner ACL cannot do it:
# network ACLs do not filter traffic to the Amazon-provided resolver (the VPC's .2 address),
# so a job can always ask it, and it answers for every private hosted zone associated with
# the VPC and carries DNS tunnels to any domain on the internet.
# https://docs.aws.amazon.com/vpc/latest/userguide/nacl-basics.html
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-dns-firewall.html
#
# DNS Firewall attaches rule groups to VPCs, not subnets: the rules below apply to the whole
# VPC, the controller's tasks included. In allow-list mode the module therefore allows what
# the controller needs (the GitHub API host, its own public name, AWS's endpoints for ECR,
# ECS, Secrets Manager, CloudWatch Logs, EC2 and RDS under amazonaws.com); anything else the
# controller or a job needs (a registry other than ECR, github.com for the jobs) belongs in
# allowed_domains.

locals {
  dns_firewall   = var.runner_dns_firewall == null ? [] : [var.runner_dns_firewall]
  dns_blocked    = [for f in local.dns_firewall : f.blocked_domains if length(f.blocked_domains) > 0]
  dns_allow_list = [for f in local.dns_firewall : f.allowed_domains if f.allowed_domains != null]
  dns_controller_domains = [
    regex("^https://([^/:]+)", var.github_api_url)[0],
    local.public_host,
    "*.amazonaws.com",
  ]
}

resource "aws_route53_resolver_firewall_rule_group" "runner" {
  count = length(local.dns_firewall)
  name  = "${var.fleet}-runner-dns"
  tags  = local.tags
}

resource "aws_route53_resolver_firewall_domain_list" "blocked" {
  count   = length(local.dns_blocked)
  name    = "${var.fleet}-blocked"
  domains = local.dns_blocked[count.index]
  tags    = local.tags
}

resource "aws_route53_resolver_firewall_domain_list" "allowed" {
  count   = length(local.dns_allow_list)
  name    = "${var.fleet}-allowed"
  domains = distinct(concat(local.dns_allow_list[count.index], local.dns_controller_domains))
  tags    = local.tags
}

resource "aws_route53_resolver_firewall_domain_list" "everything" {
  count   = length(local.dns_allow_list)
  name    = "${var.fleet}-everything"
  domains = ["*"]
  tags    = local.tags
}

# Lower priorities are evaluated first: the blocked names, then the allowed ones, then the
# catch-all block of the allow-list mode.
resource "aws_route53_resolver_firewall_rule" "blocked" {
  count                   = length(local.dns_blocked)
  name                    = "${var.fleet}-blocked"
  action                  = "BLOCK"
  block_response          = "NXDOMAIN"
  firewall_domain_list_id = aws_route53_resolver_firewall_domain_list.blocked[count.index].id
  firewall_rule_group_id  = aws_route53_resolver_firewall_rule_group.runner[0].id
  priority                = 100
}

resource "aws_route53_resolver_firewall_rule" "allowed" {
  count                   = length(local.dns_allow_list)
  name                    = "${var.fleet}-allowed"
  action                  = "ALLOW"
  firewall_domain_list_id = aws_route53_resolver_firewall_domain_list.allowed[count.index].id
  firewall_rule_group_id  = aws_route53_resolver_firewall_rule_group.runner[0].id
  priority                = 200
}

resource "aws_route53_resolver_firewall_rule" "everything_else" {
  count                   = length(local.dns_allow_list)
  name                    = "${var.fleet}-everything-else"
  action                  = "BLOCK"
  block_response          = "NXDOMAIN"
  firewall_domain_list_id = aws_route53_resolver_firewall_domain_list.everything[count.index].id
  firewall_rule_group_id  = aws_route53_resolver_firewall_rule_group.runner[0].id
  priority                = 300
}

resource "aws_route53_resolver_firewall_rule_group_association" "runner" {
  count                  = length(local.dns_firewall)
  name                   = "${var.fleet}-runner-dns"
  firewall_rule_group_id = aws_route53_resolver_firewall_rule_group.runner[0].id
  vpc_id                 = local.vpc_id
  # Rule groups of one VPC run in priority order (101-9899); others may come before or after.
  priority = 500
  tags     = local.tags
}

# Fail closed: a query the firewall cannot evaluate is refused, not let through.
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_UpdateFirewallConfig.html
resource "aws_route53_resolver_firewall_config" "runner" {
  count              = length(local.dns_firewall)
  resource_id        = local.vpc_id
  firewall_fail_open = local.dns_firewall[count.index].fail_open ? "ENABLED" : "DISABLED"
}
