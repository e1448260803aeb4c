# The ledger: PostgreSQL on RDS, private, encrypted with the customer key, TLS only.

locals {
  db_name     = "mayfly"
  db_username = "mayfly"
  # node-postgres verifies the server against the CA file named by sslrootcert (the RDS
  # bundle the Dockerfile puts in the image) and, with verify-full, the host name too.
  # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
  db_ca_file   = "/etc/ssl/certs/rds-global-bundle.pem"
  database_url = "postgres://${local.db_username}:${random_password.db.result}@${aws_db_instance.ledger.address}:${aws_db_instance.ledger.port}/${local.db_name}?sslmode=verify-full&sslrootcert=${local.db_ca_file}"
}

# Letters and digits only, so the password needs no escaping in the URL.
resource "random_password" "db" {
  length  = 40
  special = false
}

resource "aws_db_subnet_group" "ledger" {
  name_prefix = "${var.fleet}-ledger-"
  subnet_ids  = local.private_subnet_ids
  tags        = local.tags
}

resource "aws_db_parameter_group" "ledger" {
  name_prefix = "${var.fleet}-ledger-"
  family      = "postgres${var.db_engine_version}"
  tags        = local.tags

  # Refuse connections without TLS.
  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "db" {
  name_prefix = "${var.fleet}-ledger-"
  description = "mayfly ledger: PostgreSQL from the controller tasks only"
  vpc_id      = local.vpc_id
  tags        = merge(local.tags, { Name = "${var.fleet}-ledger" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "db_from_controller" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the controller tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.controller.id
  tags                         = local.tags
}

resource "aws_db_instance" "ledger" {
  identifier_prefix     = "${var.fleet}-ledger-"
  engine                = "postgres"
  engine_version        = var.db_engine_version
  instance_class        = var.db_instance_class
  allocated_storage     = var.db_allocated_storage_gib
  max_allocated_storage = var.db_max_allocated_storage_gib
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.mayfly.arn
  db_name               = local.db_name
  username              = local.db_username
  password              = random_password.db.result
  port                  = 5432

  db_subnet_group_name   = aws_db_subnet_group.ledger.name
  parameter_group_name   = aws_db_parameter_group.ledger.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  multi_az               = var.db_multi_az
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  backup_retention_period   = var.db_backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.fleet}-ledger-final"

  auto_minor_version_upgrade = true
  tags                       = local.tags
}
