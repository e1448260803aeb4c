# The controller task's own role: the AWS calls mayfly makes (src/cloud/ec2/), each held to
# this fleet by the launch template or the mayfly:fleet tag. The permissions are split in
# two documents: launching and ending VMs (iam-controller-launch.tf) and the runner subnets
# (iam-controller-network.tf).

locals {
  ec2_arn = "arn:${local.partition}:ec2:${local.region}:${local.account_id}"
  # Images and snapshots belong to no account in their ARNs.
  ec2_public_arn = "arn:${local.partition}:ec2:${local.region}:"
}

data "aws_iam_policy_document" "controller_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    # Only ECS tasks of this account may take the role (confused deputy).
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "controller" {
  name_prefix        = "${var.fleet}-controller-"
  assume_role_policy = data.aws_iam_policy_document.controller_trust.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "controller_launch" {
  name   = "mayfly-launch"
  role   = aws_iam_role.controller.id
  policy = data.aws_iam_policy_document.controller_launch.json
}

resource "aws_iam_role_policy" "controller_network" {
  name   = "mayfly-network"
  role   = aws_iam_role.controller.id
  policy = data.aws_iam_policy_document.controller_network.json
}
