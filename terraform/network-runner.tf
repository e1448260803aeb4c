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

  lifecycle {
    # The VPC denials take rules 110-199, below the allowances at 200.
    precondition {
      condition     = length(local.vpc_cidrs) <= 90
      error_message = "vpc_id: the VPC has more than 90 IPv4 blocks; the runner ACL denies each in rules 110-199."
    }
  }
}

# Mirrors src/cloud/ec2/network-acl-entries.ts. Lower rule numbers win, so the denials come
# before the internet allowances (200+): first every private range (100-103), whatever the VPC
# is peered or routed to (other VPCs, a transit gateway, a VPN, an on-premises network), then
# the VPC's own blocks (110+), for a VPC whose blocks lie outside those ranges. A runner
# reaches neither its neighbours nor the controller's tasks nor the database, only the
# internet, the load balancer's public face among it (for /runner/*).
# https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
locals {
  # RFC 1918's three private ranges, then RFC 6598's shared address space (carrier-grade NAT,
  # which AWS also allows as a VPC block), in the TypeScript side's order.
  runner_denied_ranges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]
}

resource "aws_network_acl_rule" "deny_private_in" {
  count          = length(local.runner_denied_ranges)
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 100 + count.index
  egress         = false
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = local.runner_denied_ranges[count.index]

  # Upgrading, the VPC denials move from 100+ to 110+: they are replaced first, so rule 100
  # is free when this one is made.
  depends_on = [aws_network_acl_rule.deny_vpc_in]
}

resource "aws_network_acl_rule" "deny_private_out" {
  count          = length(local.runner_denied_ranges)
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 100 + count.index
  egress         = true
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = local.runner_denied_ranges[count.index]

  depends_on = [aws_network_acl_rule.deny_vpc_out]
}

resource "aws_network_acl_rule" "deny_vpc_in" {
  count          = length(local.vpc_cidrs)
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 110 + count.index
  egress         = false
  protocol       = "-1"
  rule_action    = "deny"
  cidr_block     = local.vpc_cidrs[count.index]
}

resource "aws_network_acl_rule" "deny_vpc_out" {
  count          = length(local.vpc_cidrs)
  network_acl_id = aws_network_acl.runner.id
  rule_number    = 110 + count.index
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
