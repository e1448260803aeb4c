# The controller's logs: structured facts, never secrets; kept for a bounded time.
resource "aws_cloudwatch_log_group" "controller" {
  name              = "/mayfly/${var.fleet}/controller"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = local.tags
}
