# Every choice spelled out: an existing VPC, a custom domain, two pools, spot, a runner
# role, and tighter limits.

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = { team = "ci-platform" }
  }
}

module "mayfly" {
  source = "../.."

  fleet              = "acme-ci"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

  # An existing VPC: its subnets for the load balancer and the controller, its NAT gateway
  # for the runners (whose addresses are the only ones /runner/* is forwarded from), and a
  # range of it that nothing else uses.
  vpc_id                      = "vpc-0a1b2c3d4e5f60718"
  public_subnet_ids           = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
  private_subnet_ids          = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
  runner_cidr                 = "10.20.128.0/17"
  runner_egress               = "nat"
  nat_gateway_id              = "nat-0c1d2e3f405162738"
  runner_subnet_prefix_length = 27
  runner_max_subnets          = 300
  runner_idle_subnets         = 4

  domain_name           = "mayfly.ci.example.com"
  route53_zone_id       = "Z0123456789EXAMPLE"
  certificate_arn       = "arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-0000-000000000000"
  ssl_policy            = "ELBSecurityPolicy-TLS13-1-3-2021-06"
  webhook_ingress_cidrs = ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20"]
  operator_cidrs        = ["203.0.113.0/24"]

  controller_image            = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/mayfly:0.1.0"
  controller_cpu              = 1024
  controller_memory           = 2048
  controller_cpu_architecture = "ARM64"
  controller_count            = 3
  github_app_id               = 123456
  log_level                   = "info"
  log_retention_days          = 90

  db_instance_class        = "db.t4g.small"
  db_multi_az              = true
  db_backup_retention_days = 14

  runner_root_device_name     = "/dev/sda1"
  runner_instance_profile_arn = "arn:aws:iam::111122223333:instance-profile/mayfly-runner"
  runner_role_arn             = "arn:aws:iam::111122223333:role/mayfly-runner"

  limits    = { max_runners = 60, ec2_launches_per_second = 1 }
  retention = { jobs = "30d", usage = "365d" }
  prices = {
    "m7i.xlarge" = { on_demand = 0.2016, spot = 0.08 }
    "m7g.xlarge" = { on_demand = 0.1632, spot = 0.065 }
  }

  pools = [
    {
      name           = "linux-4cpu"
      labels         = ["mayfly-4cpu"]
      instance_types = ["m7i.xlarge", "m6i.xlarge"]
      image          = "ssm:/mayfly/runner-image/x64"
      market         = "spot-then-on-demand"
      max_runners    = 40
      disk_gib       = 60
      idle_timeout   = "10m"
      max_lifetime   = "6h"
    },
    {
      name           = "linux-arm-4cpu"
      labels         = ["mayfly-arm-4cpu"]
      instance_types = ["m7g.xlarge"]
      image          = "ami-0123456789abcdef0"
      architecture   = "arm64"
      max_runners    = 20
      repositories   = ["acme/firmware"]
    },
  ]
}

output "github_app_settings" {
  value = module.mayfly.github_app_settings
}

output "secret_arns_to_fill" {
  value = module.mayfly.secret_arns_to_fill
}
