# Starting, tagging and ending runner VMs. RunInstances authorizes every resource a launch
# touches, so each kind gets its own statement; all of them require this launch template.
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html#iam-example-runinstances

# The conditions below hold each resource of the launch to what isolation depends on, so a
# RunInstances call that drops one (IMDSv1, a second metadata hop, a plain disk, another image
# or security group, an SSH key pair) is refused by AWS, whatever the request or the template
# says. Which condition key applies to which resource type:
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html#iam-example-instance-metadata

locals {
  pool_images = distinct(concat([local.runner_image], [for p in var.pools : p.image]))
  ssm_images  = [for i in local.pool_images : trimprefix(i, "ssm:") if startswith(i, "ssm:")]
  # An AMI ID names its image exactly; an SSM parameter resolves at each launch to an ID
  # Terraform cannot know, so those images are held to their owners instead.
  pool_image_arns = [for i in local.pool_images : "${local.ec2_public_arn}:image/${i}" if startswith(i, "ami-")]
  # The deploying account always counts: an image an operator builds is owned by it.
  runner_image_owners = distinct(concat([local.account_id], var.runner_image_owners))
}

data "aws_iam_policy_document" "controller_launch" {
  statement {
    sid       = "LaunchTaggedVmsWithImdsV2"
    actions   = ["ec2:RunInstances"]
    resources = ["${local.ec2_arn}:instance/*"]
    condition {
      test     = "ArnEquals"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.runner.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/mayfly:fleet"
      values   = [var.fleet]
    }
    condition {
      test     = "StringEquals"
      variable = "ec2:MetadataHttpTokens"
      values   = ["required"]
    }
    condition {
      test     = "NumericLessThanEquals"
      variable = "ec2:MetadataHttpPutResponseHopLimit"
      values   = ["1"]
    }
  }

  statement {
    sid       = "LaunchWithEncryptedVolumes"
    actions   = ["ec2:RunInstances"]
    resources = ["${local.ec2_arn}:volume/*"]
    condition {
      test     = "ArnEquals"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.runner.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/mayfly:fleet"
      values   = [var.fleet]
    }
    condition {
      test     = "Bool"
      variable = "ec2:Encrypted"
      values   = ["true"]
    }
    dynamic "condition" {
      for_each = var.runner_volume_kms_key_arn == null ? [] : [var.runner_volume_kms_key_arn]
      content {
        test     = "StringEquals"
        variable = "ec2:KmsKeyId"
        values   = [condition.value]
      }
    }
  }

  statement {
    sid       = "LaunchIntoRunnerSubnets"
    actions   = ["ec2:RunInstances"]
    resources = ["${local.ec2_arn}:subnet/*"]
    condition {
      test     = "ArnEquals"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.runner.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/mayfly:fleet"
      values   = [var.fleet]
    }
  }

  statement {
    sid       = "LaunchWithInterfacesInVpc"
    actions   = ["ec2:RunInstances"]
    resources = ["${local.ec2_arn}:network-interface/*"]
    condition {
      test     = "ArnEquals"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.runner.arn]
    }
    condition {
      test     = "ArnEquals"
      variable = "ec2:Vpc"
      values   = [local.vpc_arn]
    }
  }

  statement {
    sid       = "LaunchWithRunnerSecurityGroup"
    actions   = ["ec2:RunInstances"]
    resources = [aws_security_group.runner.arn]
    condition {
      test     = "ArnEquals"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.runner.arn]
    }
  }

  dynamic "statement" {
    for_each = length(local.pool_image_arns) == 0 ? [] : [1]
    content {
      sid       = "LaunchFromPoolImages"
      actions   = ["ec2:RunInstances"]
      resources = local.pool_image_arns
      condition {
        test     = "ArnEquals"
        variable = "ec2:LaunchTemplate"
        values   = [aws_launch_template.runner.arn]
      }
    }
  }

  dynamic "statement" {
    for_each = length(local.ssm_images) == 0 ? [] : [1]
    content {
      sid       = "LaunchFromParameterImagesOfTrustedOwners"
      actions   = ["ec2:RunInstances"]
      resources = ["${local.ec2_public_arn}:image/*"]
      condition {
        test     = "ArnEquals"
        variable = "ec2:LaunchTemplate"
        values   = [aws_launch_template.runner.arn]
      }
      condition {
        test     = "StringEquals"
        variable = "ec2:Owner"
        values   = local.runner_image_owners
      }
    }
  }

  # No key-pair/* here: a request naming an SSH key pair is refused. The images' snapshots
  # are authorized with them (public ARN form, like images).
  statement {
    sid     = "LaunchFromTemplate"
    actions = ["ec2:RunInstances"]
    resources = [
      aws_launch_template.runner.arn,
      "${local.ec2_public_arn}:snapshot/*",
      "${local.ec2_arn}:spot-instances-request/*",
    ]
    condition {
      test     = "ArnEquals"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.runner.arn]
    }
  }

  # Tags only as part of the launch or subnet creation that makes the resource.
  # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
  statement {
    sid       = "TagOnlyAtCreation"
    actions   = ["ec2:CreateTags"]
    resources = ["${local.ec2_arn}:instance/*", "${local.ec2_arn}:volume/*", "${local.ec2_arn}:subnet/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["RunInstances", "CreateSubnet"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/mayfly:fleet"
      values   = [var.fleet]
    }
  }

  statement {
    sid       = "TerminateFleetVms"
    actions   = ["ec2:TerminateInstances"]
    resources = ["${local.ec2_arn}:instance/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/mayfly:fleet"
      values   = [var.fleet]
    }
  }

  # An ssm: image is resolved by EC2 with the caller's permission to read the parameter.
  dynamic "statement" {
    for_each = length(local.ssm_images) == 0 ? [] : [1]
    content {
      sid       = "ResolveImageParameters"
      actions   = ["ssm:GetParameters"]
      resources = [for name in local.ssm_images : "arn:${local.partition}:ssm:${local.region}:*:parameter${name}"]
    }
  }

  dynamic "statement" {
    for_each = var.runner_role_arn == null ? [] : [var.runner_role_arn]
    content {
      sid       = "PassRunnerRoleToEc2"
      actions   = ["iam:PassRole"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["ec2.amazonaws.com"]
      }
    }
  }

  # A customer key for runner volumes is used by EC2 on the caller's behalf.
  # https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html
  dynamic "statement" {
    for_each = var.runner_volume_kms_key_arn == null ? [] : [var.runner_volume_kms_key_arn]
    content {
      sid       = "EncryptRunnerVolumes"
      actions   = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ec2.${local.region}.amazonaws.com"]
      }
    }
  }
}
