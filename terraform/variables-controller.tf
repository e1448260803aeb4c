variable "controller_image" {
  description = "The controller's container image (built from the repository's Dockerfile), e.g. an ECR URI with a tag or digest."
  type        = string

  validation {
    condition     = length(trimspace(var.controller_image)) > 0
    error_message = "controller_image: required."
  }
}

variable "controller_cpu" {
  description = "Fargate CPU units per controller task."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.controller_cpu)
    error_message = "controller_cpu: one of 256, 512, 1024, 2048, 4096."
  }
}

variable "controller_memory" {
  description = "Memory per controller task, MiB (must suit controller_cpu on Fargate)."
  type        = number
  default     = 1024

  validation {
    condition     = var.controller_memory >= 512 && var.controller_memory <= 30720
    error_message = "controller_memory: from 512 to 30720 MiB."
  }
}

variable "controller_cpu_architecture" {
  description = "CPU architecture of the controller image: X86_64 or ARM64."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.controller_cpu_architecture)
    error_message = "controller_cpu_architecture: X86_64 or ARM64."
  }
}

variable "controller_count" {
  description = "Controller replicas; they share the database safely (SKIP LOCKED, one reconciler leader)."
  type        = number
  default     = 2

  validation {
    condition     = var.controller_count >= 1 && var.controller_count <= 10
    error_message = "controller_count: from 1 to 10."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener (covering domain_name when set)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn: expected an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener; only TLS 1.3 policies are accepted."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = startswith(var.ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "ssl_policy: use an ELBSecurityPolicy-TLS13-* policy."
  }
}

variable "domain_name" {
  description = "Public name of the controller; null uses the load balancer's DNS name."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "With domain_name: a Route 53 zone to create the alias record in; null creates none."
  type        = string
  default     = null
}

variable "webhook_ingress_cidrs" {
  description = "Who may reach /webhook, /healthz and /readyz: GitHub's webhook senders, the IPv4 \"hooks\" ranges of https://api.github.com/meta (GitHub changes them rarely; re-read them there, or set your GitHub Enterprise Server's address). The operators' own access is operator_cidrs."
  type        = list(string)
  # GitHub's "hooks" IPv4 ranges from https://api.github.com/meta, as the full example uses.
  default = ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20"]

  validation {
    condition     = alltrue([for c in var.webhook_ingress_cidrs : can(cidrhost(c, 0))])
    error_message = "webhook_ingress_cidrs: expected IPv4 CIDRs."
  }
}

variable "operator_cidrs" {
  description = "Who may reach the operator API, metrics and status page through the load balancer; empty keeps them private."
  type        = list(string)
  default     = []

  validation {
    # A listener rule takes at most five source_ip values.
    condition     = length(var.operator_cidrs) <= 5 && alltrue([for c in var.operator_cidrs : can(cidrhost(c, 0))])
    error_message = "operator_cidrs: at most five IPv4 CIDRs."
  }
}

variable "load_balancer_deletion_protection" {
  description = "Refuse to delete the load balancer."
  type        = bool
  default     = false
}

variable "github_app_id" {
  description = "The GitHub App's ID; null runs the controller in record-only mode (no App key injected) until the App exists."
  type        = number
  default     = null

  validation {
    condition     = var.github_app_id == null || try(var.github_app_id >= 1, false)
    error_message = "github_app_id: a positive number, or null."
  }
}

variable "github_api_url" {
  description = "GitHub API URL (GitHub Enterprise Server: https://HOST/api/v3)."
  type        = string
  default     = "https://api.github.com"

  validation {
    condition     = can(regex("^https://", var.github_api_url))
    error_message = "github_api_url: expected an https:// URL."
  }
}

variable "log_level" {
  description = "Controller log level."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["fatal", "error", "warn", "info", "debug", "trace", "silent"], var.log_level)
    error_message = "log_level: one of fatal, error, warn, info, debug, trace, silent."
  }
}

variable "reconcile_schedule" {
  description = "The reconciler's cron schedule (node-cron); null is every minute."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps controller logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: a CloudWatch retention value (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key for the log group; null uses CloudWatch's own encryption. Its key policy must allow logs.<region>.amazonaws.com."
  type        = string
  default     = null
}
