variable "fleet" {
  description = "Fleet name: tags every resource mayfly owns (mayfly:fleet) and prefixes resource names."
  type        = string

  validation {
    # The fleet file allows 39 characters; load balancer and target group names stop at 32,
    # and RDS identifiers forbid a leading digit and double dashes.
    condition     = length(var.fleet) <= 24 && can(regex("^[a-z](-?[a-z0-9])*$", var.fleet))
    error_message = "fleet: use 1-24 lowercase letters, digits or single dashes, starting with a letter."
  }
}

variable "binding_label_prefix" {
  description = "Job labels with this prefix bind a runner to a run instead of choosing a pool."
  type        = string
  default     = "mayfly-run-"

  validation {
    condition     = can(regex("^\\S{1,100}$", var.binding_label_prefix))
    error_message = "binding_label_prefix: 1-100 characters without whitespace."
  }
}

variable "pools" {
  description = "Runner pools, in the fleet file's terms (snake_case here, camelCase in the YAML)."
  type = list(object({
    name                       = string
    labels                     = list(string)
    instance_types             = list(string)
    image                      = string
    max_runners                = number
    max_runners_per_repository = optional(number)
    architecture               = optional(string, "x64")
    disk_gib                   = optional(number, 30)
    market                     = optional(string, "on-demand")
    runner_group_id            = optional(number)
    registration               = optional(string, "org")
    idle_timeout               = optional(string, "10m")
    max_lifetime               = optional(string, "6h")
    repositories               = optional(list(string))
    accept_default_labels_only = optional(bool, false)
    runner = optional(object({
      tarball_url = string
      sha256      = string
    }))
    hooks = optional(object({
      boot          = optional(string)
      job_started   = optional(string)
      job_completed = optional(string)
    }))
  }))

  validation {
    condition     = length(var.pools) >= 1
    error_message = "pools: declare at least one pool."
  }
  validation {
    condition     = alltrue([for p in var.pools : can(regex("^[a-z0-9][a-z0-9-]{0,38}$", p.name))])
    error_message = "pools[].name: use 1-39 lowercase letters, digits or dashes."
  }
  validation {
    condition     = alltrue([for p in var.pools : can(regex("^(ami-[0-9a-f]{8,17}|ssm:/.+)$", p.image))])
    error_message = "pools[].image: expected an AMI ID (ami-...) or \"ssm:/parameter/name\"."
  }
  validation {
    condition     = alltrue([for p in var.pools : contains(["spot", "on-demand", "spot-then-on-demand"], p.market)])
    error_message = "pools[].market: one of spot, on-demand, spot-then-on-demand."
  }
  validation {
    condition     = alltrue([for p in var.pools : contains(["x64", "arm64"], p.architecture)])
    error_message = "pools[].architecture: x64 or arm64."
  }
  validation {
    condition     = alltrue([for p in var.pools : length(p.labels) >= 1 && length(p.instance_types) >= 1 && p.max_runners >= 1])
    error_message = "pools[]: each pool needs labels, instance_types and a positive max_runners."
  }
  validation {
    condition     = alltrue([for p in var.pools : p.max_runners_per_repository == null || try(p.max_runners_per_repository >= 1 && p.max_runners_per_repository <= p.max_runners && floor(p.max_runners_per_repository) == p.max_runners_per_repository, false)])
    error_message = "pools[].max_runners_per_repository: a whole number from 1 to the pool's max_runners."
  }
}

variable "limits" {
  description = "Fleet-wide limits: VMs at once, API budgets, the launch grace (\"2m\") and VMs per job."
  type = object({
    max_runners                = optional(number, 100)
    max_runners_per_repository = optional(number)
    github_requests_per_hour   = optional(number, 4000)
    ec2_launches_per_second    = optional(number, 2)
    ec2_launch_burst           = optional(number, 1000)
    launch_grace               = optional(string, "2m")
    max_launches_per_job       = optional(number, 3)
  })
  default = {}

  validation {
    condition     = var.limits.max_runners >= 1 && var.limits.github_requests_per_hour >= 1 && var.limits.ec2_launches_per_second > 0 && var.limits.ec2_launch_burst >= 1 && var.limits.max_launches_per_job >= 1
    error_message = "limits: every limit must be positive."
  }
  validation {
    condition     = var.limits.max_runners_per_repository == null || try(var.limits.max_runners_per_repository >= 1 && var.limits.max_runners_per_repository <= var.limits.max_runners && floor(var.limits.max_runners_per_repository) == var.limits.max_runners_per_repository, false)
    error_message = "limits.max_runners_per_repository: a whole number from 1 to limits.max_runners."
  }
}

variable "retention" {
  description = "How long the ledger keeps deliveries, jobs and usage (\"90s\", \"10m\", \"6h\", \"3d\")."
  type = object({
    deliveries = optional(string, "3d")
    jobs       = optional(string, "90d")
    usage      = optional(string, "730d")
  })
  default = {}

  validation {
    condition     = alltrue([for d in values(var.retention) : can(regex("^[0-9]+[smhd]$", d))])
    error_message = "retention: use a number followed by s, m, h or d, such as \"90d\"."
  }
}

variable "prices" {
  description = "USD per hour by instance type, for cost reports."
  type = map(object({
    on_demand = number
    spot      = optional(number)
  }))
  default = {}
}
