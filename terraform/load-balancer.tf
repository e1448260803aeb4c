# The controller's public face: HTTPS only (TLS 1.3 policies), HTTP answers with a redirect.
# Only the paths GitHub and health checks need are forwarded to everyone; the operator API,
# metrics and status page only to operator_cidrs.

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
  for_each          = toset(distinct(concat(var.webhook_ingress_cidrs, var.operator_cidrs)))
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
  tags              = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  for_each          = toset(distinct(concat(var.webhook_ingress_cidrs, var.operator_cidrs)))
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
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = local.vpc_id
  deregistration_delay = 30
  tags                 = local.tags

  # /readyz answers 200 only while the database does.
  health_check {
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
