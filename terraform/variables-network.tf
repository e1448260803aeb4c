variable "availability_zones" {
  description = "Zones for the load balancer, the database and the runner subnets (at least two)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "availability_zones: the load balancer and the database need at least two zones."
  }
}

variable "vpc_id" {
  description = "An existing VPC to deploy into; null creates a new VPC from vpc_cidr."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id == null || can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id: expected a VPC ID such as vpc-0abc123, or null."
  }
}

variable "vpc_cidr" {
  description = "IPv4 block of the new VPC (ignored with vpc_id)."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20, false)
    error_message = "vpc_cidr: expected an IPv4 CIDR from /16 to /20, such as 10.0.0.0/16."
  }
}

variable "public_subnet_ids" {
  description = "With vpc_id: subnets for the internet-facing load balancer (two zones or more)."
  type        = list(string)
  default     = []
}

variable "private_subnet_ids" {
  description = "With vpc_id: subnets with a way out to the internet for the controller and the database."
  type        = list(string)
  default     = []
}

variable "runner_cidr" {
  description = "The range runner subnets are carved from; null takes the upper half of a new VPC."
  type        = string
  default     = null

  validation {
    condition     = var.runner_cidr == null || can(regex("^(\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2}$", var.runner_cidr))
    error_message = "runner_cidr: expected an IPv4 CIDR such as 10.0.128.0/17."
  }
}

variable "runner_subnet_prefix_length" {
  description = "Size of each runner's own subnet."
  type        = number
  default     = 28

  validation {
    condition     = var.runner_subnet_prefix_length >= 16 && var.runner_subnet_prefix_length <= 28
    error_message = "runner_subnet_prefix_length: from 16 to 28."
  }
}

variable "runner_max_subnets" {
  description = "Most runner subnets mayfly keeps at once."
  type        = number
  default     = 200

  validation {
    condition     = var.runner_max_subnets >= 1 && var.runner_max_subnets <= 10000
    error_message = "runner_max_subnets: from 1 to 10000."
  }
}

variable "runner_idle_subnets" {
  description = "Runner subnets kept ready for the next launches."
  type        = number
  default     = 2

  validation {
    condition     = var.runner_idle_subnets >= 0
    error_message = "runner_idle_subnets: zero or more."
  }
}

variable "runner_egress" {
  description = "The runners' way to the internet, and to the controller's assignment endpoint: nat (NAT gateway) or direct (public IP per VM)."
  type        = string
  default     = "nat"

  # Runner VMs fetch their runner credential from the controller over the public load
  # balancer; without a way out they never get one.
  validation {
    condition     = var.runner_egress != "none"
    error_message = "runner_egress = \"none\": runner VMs could not reach the controller's assignment endpoint to fetch their runner credential."
  }
  # "none" passes this one, so that it gets the reason above alone.
  validation {
    condition     = contains(["nat", "direct", "none"], var.runner_egress)
    error_message = "runner_egress: nat or direct."
  }
}

variable "runner_direct_cidrs" {
  description = "With runner_egress = direct (and only then): the addresses runner VMs reach /runner/* from. Their public IPs come from Amazon's pool for the Region, which the module cannot know; [\"0.0.0.0/0\"] leaves the identity document's signature as the endpoint's only guard."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.runner_direct_cidrs) <= 32 && alltrue([for c in var.runner_direct_cidrs : can(cidrhost(c, 0))])
    error_message = "runner_direct_cidrs: at most 32 IPv4 CIDRs."
  }
}

variable "nat_gateway_id" {
  description = "With vpc_id and runner_egress = nat: the NAT gateway runner subnets route through."
  type        = string
  default     = null

  validation {
    condition     = var.nat_gateway_id == null || can(regex("^nat-[0-9a-f]+$", var.nat_gateway_id))
    error_message = "nat_gateway_id: expected a NAT gateway ID such as nat-0abc123, or null."
  }
}

variable "internet_gateway_id" {
  description = "With vpc_id and runner_egress = direct: the VPC's internet gateway."
  type        = string
  default     = null

  validation {
    condition     = var.internet_gateway_id == null || can(regex("^igw-[0-9a-f]+$", var.internet_gateway_id))
    error_message = "internet_gateway_id: expected an internet gateway ID such as igw-0abc123, or null."
  }
}

variable "runner_dns_firewall" {
  description = "Route 53 Resolver DNS Firewall on the VPC: blocked_domains are refused; with allowed_domains, every other name is (an allow-list, to which the module adds what the controller needs); fail_open lets queries through when the firewall cannot answer. It applies to the whole VPC, controller included. null (the default) filters nothing."
  type = object({
    blocked_domains = optional(list(string), [])
    allowed_domains = optional(list(string))
    fail_open       = optional(bool, false)
  })
  default = null

  validation {
    condition     = var.runner_dns_firewall == null || try(length(var.runner_dns_firewall.blocked_domains) > 0 || var.runner_dns_firewall.allowed_domains != null, false)
    error_message = "runner_dns_firewall: give blocked_domains, allowed_domains or both, or leave it null."
  }
  validation {
    condition = var.runner_dns_firewall == null || alltrue([
      for d in concat(try(var.runner_dns_firewall.blocked_domains, []), coalesce(try(var.runner_dns_firewall.allowed_domains, null), [])) :
      can(regex("^(\\*\\.)?([A-Za-z0-9_-]+\\.)*[A-Za-z0-9_-]+\\.?$", d))
    ])
    error_message = "runner_dns_firewall: domains such as example.com or *.example.com."
  }
}
