# Outputs name things and say where secrets go; none carries a secret value.

output "webhook_url" {
  description = "The GitHub App's webhook URL."
  value       = "${local.base_url}/webhook"
}

output "homepage_url" {
  description = "The GitHub App's homepage URL."
  value       = local.base_url
}

output "github_app_settings" {
  description = "What the GitHub App's settings need (see DESIGN.md: permissions and the one event)."
  value = {
    homepage_url = local.base_url
    webhook_url  = "${local.base_url}/webhook"
    permissions = {
      organization_self_hosted_runners = "write"
      actions                          = "read"
      metadata                         = "read"
    }
    events = ["workflow_job"]
  }
}

output "secret_arns_to_fill" {
  description = "Secrets Manager secrets to put values in after apply (the controller starts once they hold one)."
  value = {
    github_app_private_key = aws_secretsmanager_secret.github_app_private_key.arn
    github_webhook_secret  = aws_secretsmanager_secret.github_webhook_secret.arn
    admin_token            = aws_secretsmanager_secret.admin_token.arn
  }
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer (point domain_name at it when Route 53 is not used)."
  value       = aws_lb.controller.dns_name
}

output "runner_network" {
  description = "What the fleet file's network section names."
  value = {
    vpc_id            = local.vpc_id
    runner_cidr       = local.runner_cidr
    network_acl_id    = aws_network_acl.runner.id
    route_table_id    = aws_route_table.runner.id
    security_group_id = aws_security_group.runner.id
  }
}

output "runner_source_cidrs" {
  description = "The only sources the load balancer forwards /runner/* from: the runners' NAT addresses, or runner_direct_cidrs."
  value       = local.runner_source_cidrs
}

output "launch_template_name" {
  description = "The runner launch template (the fleet file's launchTemplate)."
  value       = aws_launch_template.runner.name
}

output "fleet_yaml" {
  description = "The fleet file handed to the controller (MAYFLY_CONFIG_YAML); save it and run `mayfly config check --config FILE`."
  value       = local.fleet_yaml
}

output "ecs_cluster_name" {
  description = "The ECS cluster of the controller service."
  value       = aws_ecs_cluster.this.name
}

output "log_group_name" {
  description = "CloudWatch log group of the controller."
  value       = aws_cloudwatch_log_group.controller.name
}
