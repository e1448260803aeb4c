# The public addresses runner VMs reach the controller from, as the load balancer sees them:
# the only sources /runner/* is forwarded from (load-balancer.tf). With runner_egress = "nat"
# they are the NAT gateway's Elastic IPs, the module's own or those of nat_gateway_id; with
# "direct" each VM has a public IP from Amazon's pool for the Region, which the module cannot
# know, so the operator lists them (runner_direct_cidrs).

data "aws_nat_gateway" "runner" {
  count = !local.create_vpc && var.runner_egress == "nat" && var.nat_gateway_id != null ? 1 : 0
  id    = var.nat_gateway_id
}

# A NAT gateway may hold secondary Elastic IPs; it translates through any of them.
# https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html
data "aws_eip" "runner_nat_secondary" {
  for_each = toset(flatten(data.aws_nat_gateway.runner[*].secondary_allocation_ids))
  id       = each.value
}

locals {
  runner_nat_ips = local.create_vpc ? aws_eip.nat[*].public_ip : concat(
    data.aws_nat_gateway.runner[*].public_ip,
    [for eip in data.aws_eip.runner_nat_secondary : eip.public_ip],
  )
  runner_source_cidrs = var.runner_egress == "direct" ? var.runner_direct_cidrs : [
    for ip in local.runner_nat_ips : "${ip}/32"
  ]
}
