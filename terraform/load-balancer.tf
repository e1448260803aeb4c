# The controller's public face: HTTPS only (TLS 1.3 policies), HTTP answers with a redirect.
# Only the paths GitHub and health checks need are forwarded to everyone; the operator API,
# metrics and status page only to operator_cidrs; the runner VMs' assignment endpoint
# (/runner/*) only to the addresses runner VMs come from (network-runner-sources.tf).

locals {
  alb_ingress_cidrs = distinct(concat(var.webhook_ingress_cidrs, var.operator_cidrs))
}

resource "aws_security_group" "alb" {
  name_prefix = "${var.fleet}-alb-"
  description = "mayfly load balancer: HTTPS (and HTTP to redirect) in, controller tasks out"
  vpc_id      = local.vpc_id
  tags        = merge(local.tags, { Name = "${var.fleet}-alb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each          = toset(local.alb_ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
  tags              = local.tags
}

# Runner VMs need HTTPS in too, when the lists above do not already let everyone in. AWS
# refuses a rule that repeats another, so a runner address may not also be listed there.
resource "aws_vpc_security_group_ingress_rule" "alb_https_runners" {
  count             = contains(local.alb_ingress_cidrs, "0.0.0.0/0") ? 0 : length(local.runner_source_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from runner VMs, for /runner/*"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = local.runner_source_cidrs[count.index]
  tags              = local.tags

  lifecycle {
    precondition {
      condition     = !contains(local.alb_ingress_cidrs, local.runner_source_cidrs[count.index])
      error_message = "webhook_ingress_cidrs and operator_cidrs: leave out the address runner VMs come from (${local.runner_source_cidrs[count.index]}); the module lets it in on 443 itself."
    }
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  for_each          = toset(local.alb_ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTP, answered with a redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "alb_to_controller" {
  security_group_id            = aws_security_group.alb.id
  description                  = "to the controller tasks"
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  referenced_security_group_id = aws_security_group.controller.id
  tags                         = local.tags
}

resource "aws_lb" "controller" {
  name                       = "${var.fleet}-mayfly"
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb.id]
  subnets                    = local.public_subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.load_balancer_deletion_protection
  tags                       = local.tags
}

resource "aws_lb_target_group" "controller" {
  name                 = "${var.fleet}-ctl"
  port                 = 8080
  protocol             = "HTTPS"
  target_type          = "ip"
  vpc_id               = local.vpc_id
  deregistration_delay = 30
  tags                 = local.tags

  # /readyz answers 200 only while the database does.
  health_check {
    protocol            = "HTTPS"
    path                = "/readyz"
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.controller.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn
  tags              = local.tags

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }
}

# Runner VMs ask /runner/v1/assignment for their runner credential (DESIGN.md, "The
# assignment endpoint"): forwarded only from the addresses they come from, four to a rule
# because a rule takes at most five condition values, its path being one.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
resource "aws_lb_listener_rule" "runner_paths" {
  count        = ceil(length(local.runner_source_cidrs) / 4)
  listener_arn = aws_lb_listener.https.arn
  priority     = 1 + count.index
  tags         = local.tags

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.controller.arn
  }

  condition {
    path_pattern {
      values = ["/runner/*"]
    }
  }

  condition {
    source_ip {
      values = slice(local.runner_source_cidrs, count.index * 4, min(length(local.runner_source_cidrs), count.index * 4 + 4))
    }
  }
}

# /runner/* from anywhere else ends here, before the operators' rule, which matches every path.
resource "aws_lb_listener_rule" "runner_paths_elsewhere" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 9
  tags         = local.tags

  action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "forbidden"
      status_code  = "403"
    }
  }

  condition {
    path_pattern {
      values = ["/runner/*"]
    }
  }

  lifecycle {
    precondition {
      condition     = var.runner_egress != "direct" || length(var.runner_direct_cidrs) > 0
      error_message = "runner_direct_cidrs: required with runner_egress = \"direct\": runner VMs reach the controller's assignment endpoint from public IPs the module cannot know, so name the ranges they come from, or [\"0.0.0.0/0\"] to rely on the identity document's signature alone."
    }
    precondition {
      condition     = var.runner_egress == "direct" || length(var.runner_direct_cidrs) == 0
      error_message = "runner_direct_cidrs: only with runner_egress = \"direct\"; through a NAT gateway, /runner/* is forwarded from the gateway's own addresses."
    }
    precondition {
      condition     = try(data.aws_nat_gateway.runner[0].connectivity_type, "public") == "public"
      error_message = "nat_gateway_id: expected a public NAT gateway: runner VMs reach the controller's assignment endpoint through its Elastic IPs."
    }
    # The runner rules take priorities 1 to 8, below this one.
    precondition {
      condition     = length(local.runner_source_cidrs) <= 32
      error_message = "runner VMs come from more than 32 addresses: /runner/* is forwarded from at most 32 (eight listener rules of four)."
    }
  }
}

resource "aws_lb_listener_rule" "public_paths" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10
  tags         = local.tags

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.controller.arn
  }

  # Who may connect at all is the security group's job (webhook_ingress_cidrs).
  condition {
    path_pattern {
      values = ["/webhook", "/healthz", "/readyz"]
    }
  }
}

resource "aws_lb_listener_rule" "operators" {
  count        = length(var.operator_cidrs) == 0 ? 0 : 1
  listener_arn = aws_lb_listener.https.arn
  priority     = 20
  tags         = local.tags

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.controller.arn
  }

  condition {
    source_ip {
      values = var.operator_cidrs
    }
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.controller.arn
  port              = 80
  protocol          = "HTTP"
  tags              = local.tags

  default_action {
    type = "redirect"
    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_route53_record" "controller" {
  count   = var.route53_zone_id != null && var.domain_name != null ? 1 : 0
  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.controller.dns_name
    zone_id                = aws_lb.controller.zone_id
    evaluate_target_health = true
  }
}
