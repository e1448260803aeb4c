// Deliberately unsafe HCL, one promise broken per snippet, to show each check bites.

export const OPEN_LAUNCH_TEMPLATE = `
resource "aws_launch_template" "runner" {
  instance_initiated_shutdown_behavior = "stop"
  vpc_security_group_ids = [aws_security_group.runner.id]
  metadata_options {
    http_tokens                 = "optional"
    http_put_response_hop_limit = 2
  }
  block_device_mappings {
    device_name = "/dev/sda1"
    ebs { encrypted = false }
  }
  iam_instance_profile { name = "admin" }
  network_interfaces { associate_public_ip_address = true }
  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "runner" }
  }
}
`;

export const RUNNER_INGRESS = `
resource "aws_launch_template" "runner" {
  vpc_security_group_ids = [aws_security_group.runner.id]
}
resource "aws_security_group" "runner" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.runner.id
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = "0.0.0.0/0"
}
resource "aws_security_group_rule" "rdp" {
  type              = "ingress"
  security_group_id = aws_security_group.runner.id
}
`;

export const LEAKY_ACL = `
locals {
  fleet_tag = { "mayfly:fleet" = var.fleet }
}
resource "aws_network_acl" "runner" {
  vpc_id = var.vpc_id
  tags   = local.fleet_tag
  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    cidr_block = "0.0.0.0/0"
  }
}
resource "aws_network_acl_rule" "deny_in" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 150
  egress         = false
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = var.vpc_cidr
}
`;

export const EXPOSED_DATABASE = `
resource "aws_kms_key" "db" {
  enable_key_rotation = false
}
resource "aws_db_parameter_group" "db" {
  parameter {
    name  = "rds.force_ssl"
    value = "0"
  }
}
resource "aws_security_group" "db" {}
resource "aws_vpc_security_group_ingress_rule" "db_world" {
  security_group_id = aws_security_group.db.id
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = "0.0.0.0/0"
}
variable "backups" {
  type    = number
  default = 1
}
resource "aws_db_instance" "ledger" {
  storage_encrypted       = true
  kms_key_id              = aws_kms_key.db.arn
  publicly_accessible     = true
  backup_retention_period = var.backups
  deletion_protection     = false
  parameter_group_name    = aws_db_parameter_group.db.name
  vpc_security_group_ids  = [aws_security_group.db.id]
}
`;

export const WEAK_LOAD_BALANCER = `
variable "ssl_policy" {
  type    = string
  default = "ELBSecurityPolicy-2016-08"
}
resource "aws_lb_listener" "https" {
  protocol   = "HTTPS"
  ssl_policy = var.ssl_policy
  default_action { type = "forward" }
}
resource "aws_lb_listener" "http" {
  protocol = "HTTP"
  default_action { type = "forward" }
}
resource "aws_lb_listener_rule" "plain" {
  listener_arn = aws_lb_listener.http.arn
}
resource "aws_lb_target_group" "controller" {
  protocol = "HTTP"
  health_check { path = "/" }
}
locals {
  task_environment = { MAYFLY_HOST = "0.0.0.0" }
}
resource "aws_cloudwatch_log_group" "forever" {
  name = "/mayfly"
}
`;

export const BROAD_IAM = `
data "aws_iam_policy_document" "controller" {
  statement {
    actions   = ["ec2:*"]
    resources = ["*"]
  }
  statement {
    actions   = ["ec2:TerminateInstances", "ec2:RunInstances", "ec2:CreateTags"]
    resources = ["arn:aws:ec2:eu-west-1:111122223333:instance/*"]
  }
  dynamic "statement" {
    for_each = [1]
    content {
      actions   = ["ec2:DeleteSubnet"]
      resources = ["arn:aws:ec2:eu-west-1:111122223333:subnet/*"]
    }
  }
}
resource "aws_iam_role_policy" "inline" {
  policy = jsonencode({ Statement = [{ Action = "*", Effect = "Allow", Resource = "*" }] })
}
`;

export const LEAKED_SECRETS = `
variable "github_app_private_key" {
  type    = string
  default = "not-a-real-key"
}
variable "db_password" {
  type      = string
  sensitive = true
}
resource "random_password" "db" {
  length = 40
}
locals {
  database_url = "postgres://mayfly:\${random_password.db.result}@db/mayfly"
}
output "database_url" {
  value = local.database_url
}
output "password" {
  value = var.db_password
}
resource "aws_secretsmanager_secret" "plain" {
  name = "plain"
}
resource "aws_secretsmanager_secret_version" "plain" {
  secret_id     = aws_secretsmanager_secret.plain.id
  secret_string = "written-in-the-code"
}
resource "aws_ecs_task_definition" "controller" {
  container_definitions = jsonencode([{
    environment = [
      { name = "DATABASE_URL", value = local.database_url },
      { name = "GITHUB_WEBHOOK_SECRET", value = "x" },
    ]
  }])
}
`;

// /runner/* open to the operators and to everyone through a catch-all; no 403 for the path;
// the default action forwards.
export const OPEN_RUNNER_PATH = `
resource "aws_lb_target_group" "controller" {}
resource "aws_ecs_service" "controller" {
  load_balancer { target_group_arn = aws_lb_target_group.controller.arn }
}
resource "aws_lb_listener" "https" {
  protocol = "HTTPS"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.controller.arn
  }
}
resource "aws_lb_listener_rule" "runner_from_operators" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 1
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.controller.arn
  }
  condition {
    path_pattern { values = ["/runner/*"] }
  }
  condition {
    source_ip { values = var.operator_cidrs }
  }
}
resource "aws_lb_listener_rule" "everything" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 5
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.controller.arn
  }
  condition {
    path_pattern { values = ["/*"] }
  }
}
`;

// The NAT's rule forwards to another target group and comes after the 403; one more rule adds
// the whole internet to the NAT; the operators' rule, matching every path, precedes the 403.
export const MISORDERED_RUNNER_PATH = `
resource "aws_eip" "nat" {}
resource "aws_lb_target_group" "controller" {}
resource "aws_lb_target_group" "other" {}
resource "aws_ecs_service" "controller" {
  load_balancer { target_group_arn = aws_lb_target_group.controller.arn }
}
resource "aws_lb_listener" "https" {
  protocol = "HTTPS"
  default_action { type = "fixed-response" }
}
resource "aws_lb_listener_rule" "operators" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.controller.arn
  }
  condition {
    source_ip { values = var.operator_cidrs }
  }
}
resource "aws_lb_listener_rule" "deny" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 20
  action {
    type = "fixed-response"
    fixed_response { status_code = "403" }
  }
  condition {
    path_pattern { values = ["/runner/*"] }
  }
}
resource "aws_lb_listener_rule" "runner" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 30
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.other.arn
  }
  condition {
    path_pattern { values = ["/runner/*"] }
  }
  condition {
    source_ip { values = [for ip in aws_eip.nat[*].public_ip : "\${ip}/32"] }
  }
}
resource "aws_lb_listener_rule" "runner_and_world" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 2
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.controller.arn
  }
  condition {
    path_pattern { values = ["/runner/v1/*"] }
  }
  condition {
    source_ip { values = concat([for ip in aws_eip.nat[*].public_ip : "\${ip}/32"], ["0.0.0.0/0"]) }
  }
}
`;

// The load balancer lets GitHub in on 443 and the NAT only on 80.
export const CLOSED_TO_RUNNERS = `
resource "aws_eip" "nat" {}
resource "aws_security_group" "alb" {}
resource "aws_lb" "controller" {
  security_groups = [aws_security_group.alb.id]
}
resource "aws_vpc_security_group_ingress_rule" "github" {
  for_each          = toset(var.webhook_ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}
resource "aws_vpc_security_group_ingress_rule" "nat_http" {
  security_group_id = aws_security_group.alb.id
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "\${aws_eip.nat[0].public_ip}/32"
}
`;

export const EGRESS_NONE_ACCEPTED = `
variable "runner_egress" {
  type = string
  validation {
    condition     = contains(["nat", "direct", "none"], var.runner_egress)
    error_message = "runner_egress: one of nat, direct, none."
  }
}
`;

// "none" is refused, but the message does not say why; direct egress opens /runner/* to all.
export const EGRESS_UNEXPLAINED = `
variable "runner_egress" {
  type = string
  validation {
    condition     = contains(["nat", "direct"], var.runner_egress)
    error_message = "runner_egress: nat or direct."
  }
}
variable "runner_direct_cidrs" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}
`;

// The launch statements as they were before AWS enforced the launch's shape: any metadata
// options, plain disks under any key, any image, any security group of the VPC, key pairs;
// and the runner role passable to any service.
export const LOOSE_LAUNCH = `
variable "runner_volume_kms_key_arn" {
  type    = string
  default = null
}
data "aws_iam_policy_document" "launch" {
  statement {
    actions   = ["ec2:RunInstances"]
    resources = ["arn:aws:ec2:eu-west-1:111122223333:instance/*", "arn:aws:ec2:eu-west-1:111122223333:volume/*"]
    condition {
      test     = "ArnEquals"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.runner.arn]
    }
  }
  statement {
    actions = ["ec2:RunInstances"]
    resources = [
      "arn:aws:ec2:eu-west-1:111122223333:security-group/*",
      aws_security_group.controller.arn,
      "arn:aws:ec2:eu-west-1::image/*",
      "arn:aws:ec2:eu-west-1:111122223333:key-pair/*",
    ]
    condition {
      test     = "ArnEquals"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.runner.arn]
    }
  }
  statement {
    actions   = ["iam:PassRole"]
    resources = [var.runner_role_arn]
  }
}
`;

// Each launch condition present but loosened: IMDSv1 allowed, two hops, encryption optional.
export const LOOSENED_LAUNCH = `
data "aws_iam_policy_document" "launch" {
  statement {
    actions   = ["ec2:RunInstances"]
    resources = ["arn:aws:ec2:eu-west-1:111122223333:instance/*", "arn:aws:ec2:eu-west-1:111122223333:volume/*"]
    condition {
      test     = "ArnEquals"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.runner.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "ec2:MetadataHttpTokens"
      values   = ["required", "optional"]
    }
    condition {
      test     = "NumericLessThanEquals"
      variable = "ec2:MetadataHttpPutResponseHopLimit"
      values   = ["2"]
    }
    condition {
      test     = "Bool"
      variable = "ec2:Encrypted"
      values   = ["false"]
    }
  }
  statement {
    actions   = ["iam:PassRole"]
    resources = [var.runner_role_arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["*"]
    }
  }
}
`;

// The VPC is denied, but of the private ranges only 10/8 both ways, 172.16/12 inbound and
// 100.64/10 outbound (at the wrong number); 192.168/16 not at all; an allowance at 105 comes
// before the VPC's denial at 110.
export const PRIVATE_RANGES_OPEN = `
locals {
  fleet_tag = { "mayfly:fleet" = var.fleet }
  ranges    = ["10.0.0.0/8", "172.16.0.0/12"]
}
resource "aws_network_acl" "runner" {
  vpc_id = var.vpc_id
  tags   = local.fleet_tag
}
resource "aws_network_acl_rule" "deny_ten_in" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 100 + count.index
  count          = length(local.ranges)
  egress         = false
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = local.ranges[count.index]
}
resource "aws_network_acl_rule" "deny_ten_out" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 100
  egress         = true
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = "10.0.0.0/8"
}
resource "aws_network_acl_rule" "deny_cgnat_out" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 101
  egress         = true
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = "100.64.0.0/10"
}
resource "aws_network_acl_rule" "allow_early" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 105
  egress         = true
  protocol       = "-1"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
}
resource "aws_network_acl_rule" "deny_vpc_in" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 110
  egress         = false
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = var.vpc_cidr
}
resource "aws_network_acl_rule" "deny_vpc_out" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 120
  egress         = true
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = var.vpc_cidr
}
`;

// A DNS firewall always made, on another VPC, failing open by default, whose catch-all
// block runs before the allowances.
export const OPEN_DNS_FIREWALL = `
variable "runner_dns_firewall" {
  type = object({
    allowed_domains = optional(list(string))
    fail_open       = optional(bool, true)
  })
  default = null
}
resource "aws_route53_resolver_firewall_rule_group" "runner" {}
resource "aws_route53_resolver_firewall_domain_list" "allowed" {
  count   = var.runner_dns_firewall == null ? 0 : 1
  domains = var.runner_dns_firewall.allowed_domains
}
resource "aws_route53_resolver_firewall_domain_list" "everything" {
  domains = ["*"]
}
resource "aws_route53_resolver_firewall_rule" "allowed" {
  action                  = "ALLOW"
  firewall_domain_list_id = aws_route53_resolver_firewall_domain_list.allowed[0].id
  priority                = 200
}
resource "aws_route53_resolver_firewall_rule" "everything_else" {
  action                  = "BLOCK"
  firewall_domain_list_id = aws_route53_resolver_firewall_domain_list.everything.id
  priority                = 100
}
resource "aws_route53_resolver_firewall_rule_group_association" "runner" {
  vpc_id = var.other_vpc
}
resource "aws_route53_resolver_firewall_config" "runner" {
  resource_id        = local.vpc_id
  firewall_fail_open = "ENABLED"
}
`;

// Allowances with nothing after them: every other name still resolves.
export const ALLOW_ONLY_DNS_FIREWALL = `
variable "runner_dns_firewall" {
  type = object({
    allowed_domains = optional(list(string))
    fail_open       = optional(bool, false)
  })
  default = null
}
resource "aws_route53_resolver_firewall_rule" "allowed" {
  action   = "ALLOW"
  priority = 200
}
`;

// The webhook open to the whole internet by default, with no word on GitHub's ranges.
export const OPEN_WEBHOOK = `
variable "webhook_ingress_cidrs" {
  description = "Who may reach /webhook."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}
`;
