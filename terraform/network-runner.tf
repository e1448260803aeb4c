# The runner network that mayfly's subnets join at runtime: the isolating network ACL, the
# route table and the runner security group. Mayfly associates each runner subnet with the
# ACL and the route table itself (network.networkAclId / network.routeTableId), so neither
# resource here lists subnets: Terraform leaves those associations alone.

resource "aws_network_acl" "runner" {
  vpc_id = local.vpc_id
  tags = merge(local.fleet_tags, {
    # The same tags mayfly puts on an ACL it makes itself (src/cloud/ec2/isolating-acl.ts).
    "mayfly:role" = "runner-isolation"
    Name          = "${var.fleet}-runner-isolation"
  })
}

# Mirrors src/cloud/ec2/network-acl-entries.ts. Lower rule numbers win, so the denials of
# the VPC's own blocks (100, 101, ...) come before the internet allowances (200+): a runner
# reaches neither its neighbours nor the controller's tasks nor the database, only the
# internet, the load balancer's public face among it (for /runner/*).
# https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
resource "aws_network_acl_rule" "deny_vpc_in" {
  count          = length(local.vpc_cidrs)
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 100 + count.index
  egress         = false
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = local.vpc_cidrs[count.index]
}

resource "aws_network_acl_rule" "deny_vpc_out" {
  count          = length(local.vpc_cidrs)
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 100 + count.index
  egress         = true
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = local.vpc_cidrs[count.index]
}

resource "aws_network_acl_rule" "allow_internet_out" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 200
  egress         = true
  protocol       = "-1"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
}

# ACLs are stateless: answers come back to ephemeral ports, 1024-65535 to cover NAT
# gateways. https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html
resource "aws_network_acl_rule" "allow_replies_tcp" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 200
  egress         = false
  protocol       = "6"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
  from_port      = 1024
  to_port        = 65535
}

resource "aws_network_acl_rule" "allow_replies_udp" {
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 210
  egress         = false
  protocol       = "17"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
  from_port      = 1024
  to_port        = 65535
}

resource "aws_route_table" "runner" {
  vpc_id = local.vpc_id
  tags   = merge(local.fleet_tags, { Name = "${var.fleet}-runner" })

  lifecycle {
    precondition {
      condition     = local.create_vpc || var.runner_cidr != null
      error_message = "runner_cidr: required with vpc_id."
    }
    precondition {
      condition     = local.create_vpc || (length(var.public_subnet_ids) >= 2 && length(var.private_subnet_ids) >= 2)
      error_message = "public_subnet_ids and private_subnet_ids: at least two each with vpc_id."
    }
    precondition {
      condition     = local.create_vpc || var.runner_egress != "nat" || var.nat_gateway_id != null
      error_message = "nat_gateway_id: required with vpc_id and runner_egress = \"nat\"."
    }
    precondition {
      condition     = local.create_vpc || var.runner_egress != "direct" || var.internet_gateway_id != null
      error_message = "internet_gateway_id: required with vpc_id and runner_egress = \"direct\"."
    }
  }
}

resource "aws_route" "runner_nat" {
  count                  = var.runner_egress == "nat" ? 1 : 0
  route_table_id         = aws_route_table.runner.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = local.nat_gateway_id
}

resource "aws_route" "runner_direct" {
  count                  = var.runner_egress == "direct" ? 1 : 0
  route_table_id         = aws_route_table.runner.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = local.internet_gateway
}

# No ingress rule, ever: nothing may open a connection to a runner. Terraform removes the
# allow-all egress rule AWS adds to a new group, so egress is only what is declared below.
resource "aws_security_group" "runner" {
  name_prefix = "${var.fleet}-runner-"
  description = "mayfly runner VMs: no inbound, outbound to the internet only"
  vpc_id      = local.vpc_id
  tags        = merge(local.fleet_tags, { Name = "${var.fleet}-runner" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "runner_internet" {
  security_group_id = aws_security_group.runner.id
  description       = "to the internet (the network ACL denies the VPC itself)"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

# These four were counted when runner_egress could be "none"; now they always exist.
moved {
  from = aws_network_acl_rule.allow_internet_out[0]
  to   = aws_network_acl_rule.allow_internet_out
}

moved {
  from = aws_network_acl_rule.allow_replies_tcp[0]
  to   = aws_network_acl_rule.allow_replies_tcp
}

moved {
  from = aws_network_acl_rule.allow_replies_udp[0]
  to   = aws_network_acl_rule.allow_replies_udp
}

moved {
  from = aws_vpc_security_group_egress_rule.runner_internet[0]
  to   = aws_vpc_security_group_egress_rule.runner_internet
}
