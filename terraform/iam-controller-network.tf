# Carving, isolating and deleting runner subnets (src/cloud/ec2/ec2-network.ts), and the
# describes mayfly and `mayfly doctor` read. The isolating ACL is Terraform's, so mayfly
# needs none of CreateNetworkAcl, CreateNetworkAclEntry and ReplaceNetworkAclEntry.

data "aws_iam_policy_document" "controller_network" {
  statement {
    sid       = "CreateTaggedRunnerSubnets"
    actions   = ["ec2:CreateSubnet"]
    resources = ["${local.ec2_arn}:subnet/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/mayfly:fleet"
      values   = [var.fleet]
    }
  }

  # CreateSubnet also authorizes the VPC it carves from: this one only.
  statement {
    sid       = "CreateSubnetsInThisVpc"
    actions   = ["ec2:CreateSubnet"]
    resources = [local.vpc_arn]
  }

  statement {
    sid       = "DeleteRunnerSubnets"
    actions   = ["ec2:DeleteSubnet"]
    resources = ["${local.ec2_arn}:subnet/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/mayfly:fleet"
      values   = [var.fleet]
    }
  }

  statement {
    sid       = "IsolateRunnerSubnets"
    actions   = ["ec2:ReplaceNetworkAclAssociation"]
    resources = [aws_network_acl.runner.arn, "${local.ec2_arn}:subnet/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/mayfly:fleet"
      values   = [var.fleet]
    }
  }

  statement {
    sid       = "RouteRunnerSubnets"
    actions   = ["ec2:AssociateRouteTable"]
    resources = [aws_route_table.runner.arn, "${local.ec2_arn}:subnet/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/mayfly:fleet"
      values   = [var.fleet]
    }
  }

  dynamic "statement" {
    for_each = var.runner_egress == "direct" ? [1] : []
    content {
      sid       = "PublicIpsOnRunnerSubnets"
      actions   = ["ec2:ModifySubnetAttribute"]
      resources = ["${local.ec2_arn}:subnet/*"]
      condition {
        test     = "StringEquals"
        variable = "ec2:ResourceTag/mayfly:fleet"
        values   = [var.fleet]
      }
    }
  }

  # EC2 describes have no resource-level permissions, so they take "*"; they only read.
  # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
  statement {
    sid = "Describe"
    actions = [
      "ec2:DescribeImages",
      "ec2:DescribeInstances",
      "ec2:DescribeLaunchTemplates",
      "ec2:DescribeNatGateways",
      "ec2:DescribeNetworkAcls",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
    ]
    resources = ["*"]
  }
}
