# The fleet file, rendered from the variables in the fleet schema's own field names
# (src/config/fleet-schema.ts) and handed to the controller as MAYFLY_CONFIG_YAML.
# Null fields are dropped: the schema treats a missing field as "use the default" but
# refuses an explicit null.

locals {
  fleet_pools = [for p in var.pools : { for k, v in {
    name          = p.name
    labels        = p.labels
    instanceTypes = p.instance_types
    image         = p.image
    architecture  = p.architecture
    diskGiB       = p.disk_gib
    # The launch template's root device and key, from the same variables, so the request's
    # block device mapping (which replaces the template's) says the same.
    rootDevice              = var.runner_root_device_name
    volumeKmsKeyId          = var.runner_volume_kms_key_arn
    market                  = p.market
    maxRunners              = p.max_runners
    maxRunnersPerRepository = p.max_runners_per_repository
    runnerGroupId           = p.runner_group_id
    registration            = p.registration
    idleTimeout             = p.idle_timeout
    maxLifetime             = p.max_lifetime
    repositories            = p.repositories
    acceptDefaultLabelsOnly = p.accept_default_labels_only
    runner                  = p.runner == null ? null : { tarballUrl = p.runner.tarball_url, sha256 = p.runner.sha256 }
    hooks = p.hooks == null ? null : { for hk, hv in {
      boot         = p.hooks.boot
      jobStarted   = p.hooks.job_started
      jobCompleted = p.hooks.job_completed
    } : hk => hv if hv != null }
  } : k => v if v != null }]

  fleet_limits = { for k, v in {
    maxRunners              = var.limits.max_runners
    maxRunnersPerRepository = var.limits.max_runners_per_repository
    githubRequestsPerHour   = var.limits.github_requests_per_hour
    ec2LaunchesPerSecond    = var.limits.ec2_launches_per_second
    ec2LaunchBurst          = var.limits.ec2_launch_burst
    launchGrace             = var.limits.launch_grace
    maxLaunchesPerJob       = var.limits.max_launches_per_job
  } : k => v if v != null }

  fleet_prices = { for type, p in var.prices : type => { for k, v in {
    onDemand = p.on_demand
    spot     = p.spot
  } : k => v if v != null } }

  fleet_config = {
    fleet              = var.fleet
    bindingLabelPrefix = var.binding_label_prefix
    launchTemplate     = aws_launch_template.runner.name
    network = {
      vpcId              = local.vpc_id
      runnerCidr         = local.runner_cidr
      subnetPrefixLength = var.runner_subnet_prefix_length
      availabilityZones  = var.availability_zones
      maxSubnets         = var.runner_max_subnets
      idleSubnets        = var.runner_idle_subnets
      egress             = var.runner_egress
      routeTableId       = aws_route_table.runner.id
      networkAclId       = aws_network_acl.runner.id
    }
    limits = local.fleet_limits
    retention = {
      deliveries = var.retention.deliveries
      jobs       = var.retention.jobs
      usage      = var.retention.usage
    }
    prices = local.fleet_prices
    pools  = local.fleet_pools
  }

  fleet_yaml = yamlencode(local.fleet_config)
}
