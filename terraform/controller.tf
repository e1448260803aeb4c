# The controller: ECS Fargate tasks in private subnets, reached only through the load
# balancer. Settings go in as environment variables; every secret goes in through ECS
# `secrets` (read by the execution role at start), never through `environment`.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data-secrets.html

locals {
  container_port = 8080

  # Null values are left out of the task definition.
  task_environment = {
    MAYFLY_HOST               = "0.0.0.0"
    MAYFLY_PORT               = tostring(local.container_port)
    MAYFLY_CONFIG_YAML        = local.fleet_yaml
    AWS_REGION                = local.region
    GITHUB_API_URL            = var.github_api_url
    GITHUB_APP_ID             = var.github_app_id == null ? null : tostring(var.github_app_id)
    LOG_LEVEL                 = var.log_level
    MAYFLY_RECONCILE_SCHEDULE = var.reconcile_schedule
    # Where runner VMs ask for their assignment (through their NAT, which the load
    # balancer's /runner/* rule admits), and the account their identity documents must name.
    MAYFLY_RUNNER_ENDPOINT = local.base_url
    MAYFLY_AWS_ACCOUNT_ID  = local.account_id
    # HTTPS from the load balancer to the task too, under a certificate the task makes at
    # start: the load balancer encrypts to an HTTPS target without checking its certificate.
    MAYFLY_TLS = "self-signed"
  }

  task_secrets = {
    GITHUB_WEBHOOK_SECRET = aws_secretsmanager_secret.github_webhook_secret.arn
    # Without an App ID the controller records webhooks only, and a key alone is an error.
    GITHUB_APP_PRIVATE_KEY = var.github_app_id == null ? null : aws_secretsmanager_secret.github_app_private_key.arn
    MAYFLY_ADMIN_TOKEN     = aws_secretsmanager_secret.admin_token.arn
    DATABASE_URL           = aws_secretsmanager_secret.database_url.arn
  }

  task_secret_arns = [
    aws_secretsmanager_secret.github_webhook_secret.arn,
    aws_secretsmanager_secret.github_app_private_key.arn,
    aws_secretsmanager_secret.admin_token.arn,
    aws_secretsmanager_secret.database_url.arn,
  ]
}

resource "aws_security_group" "controller" {
  name_prefix = "${var.fleet}-controller-"
  description = "mayfly controller tasks: from the load balancer; to HTTPS APIs and the ledger"
  vpc_id      = local.vpc_id
  tags        = merge(local.tags, { Name = "${var.fleet}-controller" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "controller_from_alb" {
  security_group_id            = aws_security_group.controller.id
  description                  = "HTTP from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.container_port
  to_port                      = local.container_port
  referenced_security_group_id = aws_security_group.alb.id
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "controller_https" {
  security_group_id = aws_security_group.controller.id
  description       = "HTTPS to GitHub and the AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "controller_to_db" {
  security_group_id            = aws_security_group.controller.id
  description                  = "PostgreSQL to the ledger"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
  tags                         = local.tags
}

resource "aws_ecs_cluster" "this" {
  name = "${var.fleet}-mayfly"
  tags = local.tags

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "controller" {
  family                   = "${var.fleet}-controller"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.controller_cpu
  memory                   = var.controller_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.controller.arn
  tags                     = local.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.controller_cpu_architecture
  }

  # The root file system is read-only; /tmp is a scratch volume of the task.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([{
    name                   = "controller"
    image                  = var.controller_image
    essential              = true
    readonlyRootFilesystem = true
    stopTimeout            = 30
    portMappings           = [{ containerPort = local.container_port, protocol = "tcp" }]
    environment            = [for k, v in local.task_environment : { name = k, value = v } if v != null]
    secrets                = [for k, v in local.task_secrets : { name = k, valueFrom = v } if v != null]
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    linuxParameters = {
      initProcessEnabled = true
      capabilities       = { drop = ["ALL"] }
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.controller.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "controller"
      }
    }
  }])
}

resource "aws_ecs_service" "controller" {
  name                              = "controller"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.controller.arn
  desired_count                     = var.controller_count
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 60
  enable_execute_command            = false
  propagate_tags                    = "SERVICE"
  tags                              = local.tags

  network_configuration {
    subnets          = local.private_subnet_ids
    security_groups  = [aws_security_group.controller.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.controller.arn
    container_name   = "controller"
    container_port   = local.container_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.https, aws_lb_listener_rule.public_paths, aws_iam_role_policy.execution]
}
