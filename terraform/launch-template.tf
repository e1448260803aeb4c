# The template every runner VM starts from (the fleet file's launchTemplate). Mayfly's
# RunInstances request repeats what isolation depends on (IMDSv2, encrypted root volume,
# shutdown = terminate, tags), and request values override the template's, so this is the
# floor, not the only guard.
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-launch-templates.html

locals {
  runner_image = coalesce(var.runner_image, var.pools[0].image)
  # EC2 resolves an SSM parameter named as resolve:ssm:<name> at each launch.
  # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-systems-manager-parameter-to-find-AMI.html
  runner_image_id = startswith(local.runner_image, "ssm:") ? "resolve:ssm:${trimprefix(local.runner_image, "ssm:")}" : local.runner_image
  runner_tags     = merge(local.fleet_tags, { Name = "${var.fleet}-runner" })
}

resource "aws_launch_template" "runner" {
  name                                 = "${var.fleet}-runner"
  description                          = "mayfly runner VMs of fleet ${var.fleet}: one job, then terminated"
  image_id                             = local.runner_image_id
  instance_initiated_shutdown_behavior = "terminate"
  update_default_version               = true
  # No network_interfaces block: mayfly names the subnet in each request, which EC2 refuses
  # alongside template network interfaces. The public IP for egress = "direct" comes from
  # the subnet's MapPublicIpOnLaunch, which mayfly sets only then.
  vpc_security_group_ids = [aws_security_group.runner.id]

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = var.runner_root_device_name
    ebs {
      volume_type           = "gp3"
      volume_size           = var.pools[0].disk_gib
      encrypted             = true
      kms_key_id            = var.runner_volume_kms_key_arn
      delete_on_termination = true
    }
  }

  dynamic "iam_instance_profile" {
    for_each = var.runner_instance_profile_arn == null ? [] : [var.runner_instance_profile_arn]
    content {
      arn = iam_instance_profile.value
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = local.runner_tags
  }

  tag_specifications {
    resource_type = "volume"
    tags          = local.runner_tags
  }

  tags = local.fleet_tags

  lifecycle {
    precondition {
      condition     = (var.runner_instance_profile_arn == null) == (var.runner_role_arn == null)
      error_message = "runner_instance_profile_arn and runner_role_arn: set both or neither."
    }
  }
}
