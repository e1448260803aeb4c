import type { ColumnType, Generated } from "kysely";

/** Kysely's view of the ledger tables that the code queries (see migrations.ts). */
export interface JobsTable {
  id: number;
  run_id: number;
  run_attempt: number;
  installation_id: number | null;
  org: string;
  repository: string;
  workflow_name: string | null;
  job_name: string;
  head_branch: string | null;
  head_sha: string;
  labels: string[];
  pool: string | null;
  state: string;
  conclusion: string | null;
  runner_id: number | null;
  runner_name: string | null;
  queued_at: Date | null;
  launched_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  recorded_at: ColumnType<Date, never, never>;
  launches: Generated<number>;
  launch_failures: Generated<number>;
  next_launch_at: Date | null;
  launch_error: string | null;
  gave_up_at: Generated<Date | null>;
  vms_launched: Generated<number>;
  gave_up_reason: Generated<string | null>;
}

export interface RunnersTable {
  id: Generated<number>;
  job_id: number | null;
  pool: string;
  runner_name: string;
  runner_id: number | null;
  launch_token: string;
  state: string;
  instance_id: string | null;
  instance_type: string | null;
  market: string | null;
  availability_zone: string | null;
  state_reason: string | null;
  created_at: Generated<Date>;
  launched_at: Date | null;
  terminated_at: Date | null;
  terminate_asked_at: Date | null;
  deregister_retry_at: Date | null;
  assignment_claimed_at: Generated<Date | null>;
  assigned_at: Generated<Date | null>;
  runner_started_at: Generated<Date | null>;
}

export interface DeliveriesTable {
  id: string;
  event: string;
  received_at: Date;
}

export interface SkippedDeliveriesTable {
  id: string;
  reason: string;
  skipped_at: Date;
}

export interface SubnetsTable {
  subnet_id: string;
  availability_zone: string;
  cidr: string;
  runner_id: number | null;
  leased_at: Date | null;
  released_at: Date | null;
  created_at: Generated<Date>;
}

export interface UsageTable {
  runner_id: number;
  job_id: number | null;
  day: string;
  org: string;
  repository: string;
  workflow_name: string | null;
  pool: string;
  instance_type: string | null;
  market: string | null;
  availability_zone: string | null;
  instance_seconds: number;
  job_seconds: number | null;
  estimated_cost_usd: number | null;
  hosted_equivalent_usd: number | null;
  hosted_usd_per_minute: number | null;
  interrupted: Generated<boolean>;
}

export interface Database {
  jobs: JobsTable;
  deliveries: DeliveriesTable;
  skipped_deliveries: SkippedDeliveriesTable;
  subnets: SubnetsTable;
  runners: RunnersTable;
  usage: UsageTable;
}
