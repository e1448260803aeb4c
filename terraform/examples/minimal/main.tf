# The smallest deployment: a new VPC, one pool, everything else at its default.

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
}

module "mayfly" {
  source = "../.."

  fleet              = "acme"
  availability_zones = ["eu-west-1a", "eu-west-1b"]
  certificate_arn    = "arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-0000-000000000000"
  controller_image   = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/mayfly:0.1.0"

  pools = [{
    name           = "linux-4cpu"
    labels         = ["mayfly-4cpu"]
    instance_types = ["m7i.xlarge", "m6i.xlarge"]
    image          = "ssm:/mayfly/runner-image/x64"
    max_runners    = 20
  }]
}

output "webhook_url" {
  value = module.mayfly.webhook_url
}

output "secret_arns_to_fill" {
  value = module.mayfly.secret_arns_to_fill
}
