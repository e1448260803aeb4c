data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

data "aws_vpc" "existing" {
  count = var.vpc_id == null ? 0 : 1
  id    = var.vpc_id
}

locals {
  partition = data.aws_partition.current.partition
  # `region` replaces the deprecated `name` attribute in provider v6.
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id

  create_vpc = var.vpc_id == null
  vpc_id     = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  vpc_arn    = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc/${local.vpc_id}"
  # Every IPv4 block of the VPC: the runner ACL denies all of them. The module's own VPC has
  # one (it adds no secondary block); an existing VPC's secondary blocks are read at each plan.
  vpc_cidrs = local.create_vpc ? [var.vpc_cidr] : [
    for a in data.aws_vpc.existing[0].cidr_block_associations : a.cidr_block
  ]
  runner_cidr        = coalesce(var.runner_cidr, cidrsubnet(var.vpc_cidr, 1, 1))
  public_subnet_ids  = local.create_vpc ? aws_subnet.public[*].id : var.public_subnet_ids
  private_subnet_ids = local.create_vpc ? aws_subnet.private[*].id : var.private_subnet_ids
  nat_gateway_id     = local.create_vpc ? aws_nat_gateway.this[0].id : var.nat_gateway_id
  internet_gateway   = local.create_vpc ? aws_internet_gateway.this[0].id : var.internet_gateway_id

  # Only runner resources carry the fleet tag: mayfly adopts (and may delete) subnets that
  # carry it, and the controller's IAM conditions trust it.
  fleet_tag  = { "mayfly:fleet" = var.fleet }
  tags       = { "mayfly:deployment" = var.fleet }
  fleet_tags = merge(local.tags, local.fleet_tag)

  public_host = coalesce(var.domain_name, aws_lb.controller.dns_name)
  base_url    = "https://${local.public_host}"
}
