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
  health_check { path = "/" }
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
