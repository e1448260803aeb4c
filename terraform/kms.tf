# One customer key for what mayfly keeps at rest: the ledger database and the secrets.
# No key policy is given, so AWS's default applies: the account administers the key and IAM
# policies (the execution role's below) grant its use.
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
resource "aws_kms_key" "mayfly" {
  description             = "mayfly ${var.fleet}: ledger database and secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags
}

resource "aws_kms_alias" "mayfly" {
  name          = "alias/mayfly-${var.fleet}"
  target_key_id = aws_kms_key.mayfly.key_id
}
