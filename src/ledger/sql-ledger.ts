import { type Kysely, Migrator, type Selectable, sql, type Transaction } from "kysely";
import type { Job, JobAction, JobEvent } from "../core/job.js";
import { applyEvent } from "../core/job-state.js";
import type { GiveUpReason } from "../core/reconcile-plan.js";
import type { UsagePrices } from "../core/usage-cost.js";
import { LedgerError } from "../errors.js";
import * as assignments from "./assignment-ledger.js";
import type { Database, JobsTable } from "./db-schema.js";
import * as deliveryLedger from "./delivery-ledger.js";
import * as counts from "./fleet-counts.js";
import { listJobs } from "./job-listing.js";
import { addLateJobToUsage } from "./late-job-usage.js";
import * as launches from "./launch-ledger.js";
import type {
  AssignmentRow,
  ClaimRequest,
  Delivery,
  IngestOutcome,
  JobToCheck,
  LaunchedVm,
  LaunchIntent,
  Leadership,
  Ledger,
  LedgerSubnet,
  ReapTarget,
  ReconcileView,
  Subnet,
  TerminatedVm,
} from "./ledger.js";
import { migrations } from "./migrations.js";
import type { PruneCutoffs } from "./prune-ledger.js";
import * as pruneLedger from "./prune-ledger.js";
import * as reaping from "./reap-ledger.js";
import { rebindTakenRunner } from "./rebind-runner.js";
import * as reconciling from "./reconcile-ledger.js";
import type {
  FleetCounts,
  JobFilter,
  JobListing,
  LatencyPoint,
  Pruned,
  UsageQuery,
  UsageRow,
} from "./report-types.js";
import { retryOnDeadlock } from "./retry-on-deadlock.js";
import * as subnetLedger from "./subnet-ledger.js";
import { usageReport } from "./usage-report.js";

/** The ledger on any PostgreSQL that Kysely reaches: a server through `pg`, or PGlite. */
export class SqlLedger implements Ledger {
  constructor(
    private readonly db: Kysely<Database>,
    /** PGlite: one connection in one process, which is the leader by itself. */
    private readonly options: { readonly embedded?: boolean } = {},
  ) {}

  reconcileView(installationsSince: Date): Promise<ReconcileView> {
    return reconciling.reconcileView(this.db, installationsSince);
  }

  giveUpJob(jobId: number, reason: GiveUpReason, words: string, now: Date): Promise<void> {
    return reconciling.giveUpJob(this.db, jobId, reason, words, now);
  }

  queuedJobsToCheck(before: Date, afterJobId: number, limit: number): Promise<JobToCheck[]> {
    return reconciling.queuedJobsToCheck(this.db, before, afterJobId, limit);
  }

  closeJob(jobId: number, conclusion: string | null, now: Date): Promise<boolean> {
    return reconciling.closeJob(this.db, jobId, conclusion, now);
  }

  async asLeader<T>(task: string, work: () => Promise<T>): Promise<Leadership<T>> {
    if (this.options.embedded) return { leader: true, result: await work() };
    // A session lock on one held connection: `work` runs on the pool's others, and the
    // lock goes with the connection if this process dies.
    return this.db.connection().execute(async (conn) => {
      const { rows } = await sql<{ got: boolean }>`
        select pg_try_advisory_lock(hashtext(${`mayfly:${task}`})) as got`.execute(conn);
      if (!rows[0]?.got) return { leader: false };
      try {
        return { leader: true, result: await work() };
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${`mayfly:${task}`}))`.execute(conn);
      }
    });
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => migrations },
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
      throw new LedgerError(`migration ${failed} failed`, { cause: error });
    }
  }

  /**
   * Deliveries come side by side, and two that name each other's runners (each job took the
   * other's) lock the same two jobs in opposite orders: PostgreSQL aborts one, which runs
   * again once the other has committed.
   */
  ingest(delivery: Delivery, event: JobEvent, pool: string | null): Promise<IngestOutcome> {
    // A burst of crossed steals can meet several times: a delivery lost to a 500 is only
    // found again from the delivery log, so intake tries harder than the launcher.
    return retryOnDeadlock(() => this.#ingestOnce(delivery, event, pool), 8);
  }

  #ingestOnce(delivery: Delivery, event: JobEvent, pool: string | null): Promise<IngestOutcome> {
    return this.db.transaction().execute(async (tx) => {
      await lockJobAndTakenRunnersJob(tx, event);
      const existing = await lockJob(tx, event.jobId);
      if (existing === undefined && pool === null) return "ignored";

      const fresh = await tx
        .insertInto("deliveries")
        .values({ id: delivery.id, event: delivery.event, received_at: delivery.receivedAt })
        .onConflict((oc) => oc.column("id").doNothing())
        .returning("id")
        .executeTakeFirst();
      if (fresh === undefined) return "duplicate";

      if (existing === undefined) {
        const { job } = applyEvent(undefined, event, pool);
        const inserted = await tx
          .insertInto("jobs")
          .values(toRow(job))
          .onConflict((oc) => oc.column("id").doNothing())
          .returning("id")
          .executeTakeFirst();
        if (inserted !== undefined) {
          await rebindTakenRunner(tx, job);
          await assignments.markRunnerStarted(tx, job, delivery.receivedAt);
          await addLateJobToUsage(tx, job);
          return "recorded";
        }
        // Another transaction created the job meanwhile: apply on top of its row.
      }
      const current = await lockJob(tx, event.jobId);
      if (current === undefined) throw new LedgerError(`job ${event.jobId} vanished during ingest`);
      const { job, changed } = applyEvent(fromRow(current), event, pool);
      if (changed) {
        await tx.updateTable("jobs").set(toRow(job)).where("id", "=", job.id).execute();
        await rebindTakenRunner(tx, job);
        await assignments.markRunnerStarted(tx, job, delivery.receivedAt);
        await addLateJobToUsage(tx, job);
      }
      return "recorded";
    });
  }

  async getJob(id: number): Promise<Job | undefined> {
    const row = await this.db
      .selectFrom("jobs")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  prune(cutoffs: PruneCutoffs): Promise<Pruned> {
    return pruneLedger.prune(this.db, cutoffs);
  }

  knownDeliveries(ids: readonly string[]): Promise<Set<string>> {
    return deliveryLedger.knownDeliveries(this.db, ids);
  }

  skipDelivery(id: string, reason: string, at: Date): Promise<void> {
    return deliveryLedger.skipDelivery(this.db, id, reason, at);
  }

  latestDeliveryAt(before?: Date): Promise<Date | undefined> {
    return deliveryLedger.latestDeliveryAt(this.db, before);
  }

  claimLaunches(req: ClaimRequest): Promise<LaunchIntent[]> {
    return launches.claimLaunches(this.db, req);
  }

  recordLaunch(runnerRowId: number, vm: LaunchedVm): Promise<void> {
    return launches.recordLaunch(this.db, runnerRowId, vm);
  }

  findAssignment(instanceId: string): Promise<AssignmentRow | undefined> {
    return assignments.findAssignment(this.db, instanceId);
  }

  claimAssignment(runnerRowId: number, now: Date, staleBefore: Date): Promise<boolean> {
    return assignments.claimAssignment(this.db, runnerRowId, now, staleBefore);
  }

  claimReissue(runnerRowId: number, now: Date, staleBefore: Date): Promise<boolean> {
    return assignments.claimReissue(this.db, runnerRowId, now, staleBefore);
  }

  recordAssignment(runnerRowId: number, runnerId: number, now: Date): Promise<void> {
    return assignments.recordAssignment(this.db, runnerRowId, runnerId, now);
  }

  releaseAssignmentClaim(runnerRowId: number): Promise<void> {
    return assignments.releaseAssignmentClaim(this.db, runnerRowId);
  }

  recordLaunchFailure(
    runnerRowId: number,
    reason: string,
    retryAt: Date,
    now: Date,
  ): Promise<void> {
    return launches.recordLaunchFailure(this.db, runnerRowId, reason, retryAt, now);
  }

  settleWithoutLaunch(
    runnerRowId: number,
    outcome: { readonly kind: "started" | "close"; readonly conclusion: string | null },
    reason: string,
    now: Date,
  ): Promise<void> {
    return launches.settleWithoutLaunch(this.db, runnerRowId, outcome, reason, now);
  }

  addSubnets(subnets: readonly Subnet[]): Promise<void> {
    return subnetLedger.addSubnets(this.db, subnets);
  }

  leaseSubnet(
    runnerRowId: number,
    zones: readonly string[],
    now: Date,
  ): Promise<Subnet | undefined> {
    return subnetLedger.leaseSubnet(this.db, runnerRowId, zones, now);
  }

  releaseSubnet(runnerRowId: number): Promise<void> {
    return subnetLedger.releaseSubnet(this.db, runnerRowId);
  }

  listSubnets(): Promise<LedgerSubnet[]> {
    return subnetLedger.listSubnets(this.db);
  }

  removeSubnet(subnetId: string): Promise<boolean> {
    return subnetLedger.removeSubnet(this.db, subnetId);
  }

  runnersToReap(limit: number, now: Date): Promise<ReapTarget[]> {
    return reaping.runnersToReap(this.db, limit, now);
  }

  markTerminating(runnerRowIds: readonly number[], now: Date): Promise<void> {
    return reaping.markTerminating(this.db, runnerRowIds, now);
  }

  deferDeregistration(runnerRowIds: readonly number[], until: Date): Promise<void> {
    return reaping.deferDeregistration(this.db, runnerRowIds, until);
  }

  recordTerminated(vms: readonly TerminatedVm[], prices: UsagePrices): Promise<number> {
    return reaping.recordTerminated(this.db, vms, prices);
  }

  usageReport(query: UsageQuery): Promise<UsageRow[]> {
    return usageReport(this.db, query);
  }

  listJobs(filter: JobFilter, now: Date): Promise<JobListing[]> {
    return listJobs(this.db, filter, now);
  }

  fleetCounts(): Promise<FleetCounts> {
    return counts.fleetCounts(this.db);
  }

  queueLatency(since: Date): Promise<LatencyPoint[]> {
    return counts.queueLatency(this.db, since);
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.db);
    } catch (error) {
      throw new LedgerError("the database does not answer", { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Reads a job row and holds its lock until the transaction ends. */
/**
 * A job that names a runner of ours may rebind that runner away from the job it was
 * launched for (rebind-runner.ts), so both jobs are locked, in ID order: two deliveries
 * whose jobs took each other's runners then queue up instead of deadlocking.
 */
async function lockJobAndTakenRunnersJob(tx: Transaction<Database>, event: JobEvent) {
  if (event.runnerName === null) return;
  const runner = await tx
    .selectFrom("runners")
    .select("job_id")
    .where("runner_name", "=", event.runnerName)
    .executeTakeFirst();
  const other = runner?.job_id === null || runner === undefined ? null : Number(runner.job_id);
  if (other === null || other === event.jobId) return;
  await tx
    .selectFrom("jobs")
    .select("id")
    .where("id", "in", [event.jobId, other])
    .orderBy("id")
    .forUpdate()
    .execute();
}

function lockJob(tx: Transaction<Database>, id: number) {
  return tx.selectFrom("jobs").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
}

type JobColumns = Omit<
  Selectable<JobsTable>,
  | "recorded_at"
  | "launched_at"
  | "launches"
  | "launch_failures"
  | "next_launch_at"
  | "launch_error"
  | "gave_up_at"
  | "vms_launched"
  | "gave_up_reason"
>;

function toRow(job: Job): JobColumns {
  return {
    id: job.id,
    run_id: job.runId,
    run_attempt: job.runAttempt,
    installation_id: job.installationId,
    org: job.org,
    repository: job.repository,
    workflow_name: job.workflowName,
    job_name: job.jobName,
    head_branch: job.headBranch,
    head_sha: job.headSha,
    labels: [...job.labels],
    pool: job.pool,
    state: job.state,
    conclusion: job.conclusion,
    runner_id: job.runnerId,
    runner_name: job.runnerName,
    queued_at: job.queuedAt,
    started_at: job.startedAt,
    completed_at: job.completedAt,
  };
}

function fromRow(row: JobColumns): Job {
  return {
    id: Number(row.id),
    runId: Number(row.run_id),
    runAttempt: row.run_attempt,
    installationId: row.installation_id === null ? null : Number(row.installation_id),
    org: row.org,
    repository: row.repository,
    workflowName: row.workflow_name,
    jobName: row.job_name,
    headBranch: row.head_branch,
    headSha: row.head_sha,
    labels: row.labels,
    pool: row.pool,
    state: row.state as JobAction,
    conclusion: row.conclusion,
    runnerId: row.runner_id === null ? null : Number(row.runner_id),
    runnerName: row.runner_name,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}
