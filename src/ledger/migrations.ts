import { type Kysely, type Migration, sql } from "kysely";

/**
 * The ledger's schema, one migration a step, applied in order by Kysely's Migrator.
 * It holds job metadata and usage only: never code, logs, secrets, tokens, JIT configs or
 * webhook bodies (DESIGN.md, "What is stored").
 */
export const migrations: Record<string, Migration> = {
  "0001_initial": {
    async up(db: Kysely<unknown>) {
      await sql`
        create table jobs (
          id               bigint primary key,         -- GitHub's job ID
          run_id           bigint not null,
          run_attempt      integer not null,
          installation_id  bigint,                     -- the App installation to act through
          org              text not null,
          repository       text not null,              -- owner/name
          workflow_name    text,
          job_name         text not null,
          head_branch      text,
          head_sha         text not null,
          labels           text[] not null,
          pool             text,
          state            text not null
                           check (state in ('waiting', 'queued', 'in_progress', 'completed')),
          conclusion       text,
          runner_id        bigint,
          runner_name      text,
          queued_at        timestamptz,
          launched_at      timestamptz,
          started_at       timestamptz,
          completed_at     timestamptz,
          recorded_at      timestamptz not null default now(),
          launches         integer not null default 0,   -- runners started for this job
          launch_failures  integer not null default 0,   -- consecutive failed launches
          next_launch_at   timestamptz,                  -- backoff after a failure
          launch_error     text                          -- why the last launch failed
        )`.execute(db);
      // The work queue: queued jobs of a pool (DESIGN.md, "Ledger").
      await sql`create index jobs_queued on jobs (pool, queued_at) where state = 'queued'`.execute(
        db,
      );

      await sql`
        create table runners (
          id                 bigserial primary key,
          job_id             bigint references jobs (id) on delete set null,
          pool               text not null,
          runner_name        text not null unique,
          runner_id          bigint,
          launch_token       text not null unique,    -- EC2 ClientToken: one launch per row
          state              text not null
                             check (state in ('launching', 'running', 'terminating', 'terminated')),
          instance_id        text unique,
          instance_type      text,
          market             text check (market in ('spot', 'on-demand')),
          availability_zone  text,
          state_reason       text,
          created_at         timestamptz not null default now(),
          launched_at        timestamptz,
          terminated_at      timestamptz
        )`.execute(db);
      await sql`create index runners_live on runners (pool) where state <> 'terminated'`.execute(
        db,
      );

      // One VM per subnet at a time: the lease is the unique runner_id column.
      await sql`
        create table subnets (
          subnet_id          text primary key,
          availability_zone  text not null,
          cidr               text not null unique,
          runner_id          bigint unique references runners (id),
          leased_at          timestamptz,
          created_at         timestamptz not null default now(),
          check ((runner_id is null) = (leased_at is null))
        )`.execute(db);

      await sql`
        create table deliveries (
          id           text primary key,               -- X-GitHub-Delivery
          event        text not null,
          received_at  timestamptz not null
        )`.execute(db);
      await sql`create index deliveries_received_at on deliveries (received_at)`.execute(db);

      // One row per VM. Usage outlives job detail, so it copies what reports group by
      // instead of joining; a VM that ran no job (job_seconds null) is waste.
      await sql`
        create table usage (
          runner_id           bigint primary key,   -- runners.id of the VM
          job_id              bigint,
          day                 date not null,
          org                 text not null,
          repository          text not null,
          workflow_name       text,
          pool                text not null,
          instance_type       text,
          market              text,
          availability_zone   text,
          instance_seconds    numeric not null default 0 check (instance_seconds >= 0),
          job_seconds         numeric check (job_seconds >= 0),
          estimated_cost_usd  numeric check (estimated_cost_usd >= 0)
        )`.execute(db);
      await sql`create index usage_day on usage (day)`.execute(db);
    },
  },
  "0002_subnets_interruptions_give_up": {
    async up(db: Kysely<unknown>) {
      // When a subnet was last given back: idle surplus is deleted after a while unused.
      await sql`alter table subnets add column released_at timestamptz`.execute(db);
      // A job whose launches kept failing is not launched again; launch_error says why.
      await sql`alter table jobs add column gave_up_at timestamptz`.execute(db);
      // A VM the cloud took back (a spot interruption) ended its job early: reports say so.
      await sql`alter table usage add column interrupted boolean not null default false`.execute(
        db,
      );
    },
  },
  "0003_reports_and_retention": {
    async up(db: Kysely<unknown>) {
      // What the same job would have cost on a GitHub-hosted runner, priced when it ended.
      await sql`alter table usage add column hosted_equivalent_usd numeric
                check (hosted_equivalent_usd >= 0)`.execute(db);
      // Retention deletes completed jobs and terminated runners by age.
      await sql`create index jobs_completed_at on jobs (completed_at)
                where state = 'completed'`.execute(db);
      await sql`create index jobs_recorded_at on jobs (recorded_at)`.execute(db);
      await sql`create index runners_terminated_at on runners (terminated_at)
                where state = 'terminated'`.execute(db);
      await sql`create index runners_job on runners (job_id)`.execute(db);
    },
  },
  "0004_terminate_asked_at": {
    async up(db: Kysely<unknown>) {
      // When termination was last asked for: the reaper asks again only if the VM outlives it.
      await sql`alter table runners add column terminate_asked_at timestamptz`.execute(db);
    },
  },
  "0005_launch_guards": {
    async up(db: Kysely<unknown>) {
      // VMs started for a job (launches counts intents, failed ones too): a job GitHub never
      // routes to our runners is given up after limits.maxLaunchesPerJob of them.
      await sql`alter table jobs add column vms_launched integer not null default 0`.execute(db);
      // Why a job was given up, as a short code (launch_error keeps the words).
      await sql`alter table jobs add column gave_up_reason text`.execute(db);
    },
  },
  "0006_deregister_retry_at": {
    async up(db: Kysely<unknown>) {
      // The reaper deregisters a runner before ending its VM; while GitHub answers that the
      // runner is running a job (422), the VM is left and GitHub asked again only after this.
      await sql`alter table runners add column deregister_retry_at timestamptz`.execute(db);
    },
  },
  "0007_skipped_deliveries": {
    async up(db: Kysely<unknown>) {
      // Logged deliveries recovery could not apply: never fetched again. The GUID and a
      // reason code only, never the body or a message quoting it (DESIGN.md, "What is stored").
      await sql`
        create table skipped_deliveries (
          id          text primary key,               -- X-GitHub-Delivery
          reason      text not null,                  -- an error code, e.g. PAYLOAD_INVALID
          skipped_at  timestamptz not null
        )`.execute(db);
      await sql`create index skipped_deliveries_skipped_at on skipped_deliveries (skipped_at)`.execute(
        db,
      );
    },
  },
  "0008_usage_hosted_rate": {
    async up(db: Kysely<unknown>) {
      // The per-minute price of the GitHub-hosted runner the VM's size was priced against,
      // null when none matched: a job whose in_progress or completed names the VM after its
      // usage was written is priced then as it would have been (late-job-usage.ts).
      await sql`alter table usage add column hosted_usd_per_minute numeric
                check (hosted_usd_per_minute >= 0)`.execute(db);
    },
  },
  "0009_assignment": {
    async up(db: Kysely<unknown>) {
      // The assignment handoff (DESIGN.md, "The assignment endpoint"): a VM asks for its JIT
      // config by instance ID. `assignment_claimed_at` holds the one registration in flight,
      // `assigned_at` is when the first answer went out, `runner_started_at` when GitHub
      // first named the runner as running a job (a later ask is then a replay).
      await sql`alter table runners add column assignment_claimed_at timestamptz`.execute(db);
      await sql`alter table runners add column assigned_at timestamptz`.execute(db);
      await sql`alter table runners add column runner_started_at timestamptz`.execute(db);
      await sql`create index runners_instance_id on runners (instance_id)`.execute(db);
    },
  },
};
