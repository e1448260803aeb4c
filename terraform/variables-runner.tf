variable "runner_image" {
  description = "Default image of the launch template (ami-... or ssm:/parameter); null takes the first pool's. Each pool's own image still wins at launch."
  type        = string
  default     = null

  validation {
    condition     = var.runner_image == null || can(regex("^(ami-[0-9a-f]{8,17}|ssm:/.+)$", var.runner_image))
    error_message = "runner_image: expected an AMI ID or \"ssm:/parameter/name\", or null."
  }
}

variable "runner_image_owners" {
  description = "Owners whose images an ssm: pool image may resolve to (account IDs, or \"amazon\"); the deploying account is always one. The default is Canonical (Ubuntu) and Amazon."
  type        = list(string)
  # 099720109477 is Canonical's account, which publishes Ubuntu's AMIs (mayfly's default
  # root device, /dev/sda1, is Ubuntu's); "amazon" is Amazon's own images (Amazon Linux).
  default = ["099720109477", "amazon"]

  validation {
    condition     = alltrue([for o in var.runner_image_owners : can(regex("^([0-9]{12}|amazon)$", o))])
    error_message = "runner_image_owners: 12-digit account IDs or \"amazon\"."
  }
}

variable "runner_root_device_name" {
  description = "Root device of the runner images (/dev/sda1 for Ubuntu, /dev/xvda for Amazon Linux); mayfly's default is /dev/sda1."
  type        = string
  default     = "/dev/sda1"

  validation {
    condition     = startswith(var.runner_root_device_name, "/dev/")
    error_message = "runner_root_device_name: a device path such as /dev/sda1."
  }
}

variable "runner_volume_kms_key_arn" {
  description = "KMS key for runner root volumes; null uses the account's EBS key (aws/ebs). Volumes are encrypted either way."
  type        = string
  default     = null

  validation {
    condition     = var.runner_volume_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.runner_volume_kms_key_arn))
    error_message = "runner_volume_kms_key_arn: expected a KMS key ARN, or null."
  }
}

variable "runner_instance_profile_arn" {
  description = "An instance profile for runner VMs; null (the default) gives them no AWS identity at all."
  type        = string
  default     = null

  validation {
    condition     = var.runner_instance_profile_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/.+$", var.runner_instance_profile_arn))
    error_message = "runner_instance_profile_arn: expected an instance profile ARN, or null."
  }
}

variable "runner_role_arn" {
  description = "With runner_instance_profile_arn: the role inside it, which the controller may pass to EC2 and nothing else."
  type        = string
  default     = null

  validation {
    condition     = var.runner_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.runner_role_arn))
    error_message = "runner_role_arn: expected an IAM role ARN, or null."
  }
}
