# Containers for the controller's secrets. Terraform never sets the GitHub or admin values
# (so they are in neither the plan nor the state): put them in after apply, from
# `mayfly app create` or the console. The task cannot start until they hold a value.

resource "aws_secretsmanager_secret" "github_app_private_key" {
  name_prefix             = "mayfly/${var.fleet}/github-app-private-key-"
  description             = "mayfly ${var.fleet}: the GitHub App's PEM private key (GITHUB_APP_PRIVATE_KEY)"
  kms_key_id              = aws_kms_key.mayfly.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret" "github_webhook_secret" {
  name_prefix             = "mayfly/${var.fleet}/github-webhook-secret-"
  description             = "mayfly ${var.fleet}: the App's webhook secret, comma-separated while rotating (GITHUB_WEBHOOK_SECRET)"
  kms_key_id              = aws_kms_key.mayfly.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret" "admin_token" {
  name_prefix             = "mayfly/${var.fleet}/admin-token-"
  description             = "mayfly ${var.fleet}: bearer token of the operator API (MAYFLY_ADMIN_TOKEN)"
  kms_key_id              = aws_kms_key.mayfly.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

# The only secret Terraform fills: the ledger's connection URL, built from the generated
# master password (see database.tf).
resource "aws_secretsmanager_secret" "database_url" {
  name_prefix             = "mayfly/${var.fleet}/database-url-"
  description             = "mayfly ${var.fleet}: the ledger's PostgreSQL URL (DATABASE_URL)"
  kms_key_id              = aws_kms_key.mayfly.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id     = aws_secretsmanager_secret.database_url.id
  secret_string = local.database_url
}
