variable "db_instance_class" {
  description = "RDS instance class of the ledger."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class: expected an RDS class such as db.t4g.micro."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL major version of the ledger."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[4-9]$", var.db_engine_version))
    error_message = "db_engine_version: a PostgreSQL major version from 14 on, such as \"16\"."
  }
}

variable "db_allocated_storage_gib" {
  description = "Initial ledger storage, GiB; it grows up to db_max_allocated_storage_gib."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage_gib >= 20
    error_message = "db_allocated_storage_gib: at least 20."
  }
}

variable "db_max_allocated_storage_gib" {
  description = "Ceiling of storage autoscaling, GiB."
  type        = number
  default     = 100

  validation {
    condition     = var.db_max_allocated_storage_gib >= 20
    error_message = "db_max_allocated_storage_gib: at least 20."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated backups."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days: from 7 to 35."
  }
}

variable "db_deletion_protection" {
  description = "Refuse to delete the ledger database."
  type        = bool
  default     = true
}

variable "db_multi_az" {
  description = "Run the ledger with a standby in a second zone."
  type        = bool
  default     = false
}
