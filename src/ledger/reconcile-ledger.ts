import { type Kysely, sql } from "kysely";
import type { GiveUpReason } from "../core/reconcile-plan.js";
import type { LedgerRunner, QueuedJob, SubnetLease } from "../core/reconcile-snapshot.js";
import { jobsAwaitingRunner } from "./awaiting-runner.js";
import type { Database } from "./db-schema.js";
import type { ReconcileView } from "./ledger.js";

/**
 * The ledger's side of a reconcile pass, read in one repeatable-read transaction so that
 * runners, jobs and leases agree with one another.
 */
export async function reconcileView(db: Kysely<Database>, since: Date): Promise<ReconcileView> {
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (tx) => {
      const runners = await tx
        .selectFrom("runners as r")
        .leftJoin("jobs as j", "j.id", "r.job_id")
        .select([
          "r.id",
          "r.instance_id",
          "r.runner_name",
          "r.pool",
          "r.job_id",
          "r.state",
          "r.created_at",
          "r.launched_at",
          "r.runner_id",
          "r.assignment_claimed_at",
          "r.assigned_at",
          "j.state as job_state",
          "j.runner_name as taken_by",
          "j.installation_id",
          "j.org",
          "j.repository",
        ])
        .where("r.state", "<>", "terminated")
        .orderBy("r.id")
        .execute();
      const queued = await jobsAwaitingRunner(tx)
        .select([
          "j.id",
          "j.pool",
          "j.queued_at",
          "j.recorded_at",
          "j.launch_failures",
          "j.vms_launched",
        ])
        .orderBy("j.id")
        .execute();
      const subnets = await tx.selectFrom("subnets").select(["subnet_id", "runner_id"]).execute();
      const leases = subnets.filter((s) => s.runner_id !== null);
      const installations = await tx
        .selectFrom("jobs")
        .select(["installation_id", "org"])
        .distinct()
        .where("installation_id", "is not", null)
        .where("recorded_at", ">=", since)
        .execute();
      return {
        runners: runners.map(
          (r): LedgerRunner => ({
            rowId: Number(r.id),
            instanceId: r.instance_id,
            runnerName: r.runner_name,
            pool: r.pool,
            jobId: r.job_id === null ? null : Number(r.job_id),
            state: r.state as LedgerRunner["state"],
            createdAt: r.created_at,
            launchedAt: r.launched_at,
            jobEnded: r.job_id === null || r.job_state === "completed",
            tookJob: r.taken_by === r.runner_name,
            githubRunnerId: r.runner_id === null ? null : Number(r.runner_id),
            asked: r.assignment_claimed_at !== null || r.assigned_at !== null,
          }),
        ),
        queuedJobs: queued.map(
          (j): QueuedJob => ({
            jobId: Number(j.id),
            pool: j.pool as string,
            queuedAt: j.queued_at ?? j.recorded_at,
            launchFailures: Number(j.launch_failures),
            vmsLaunched: Number(j.vms_launched),
          }),
        ),
        runnerSubnets: subnets.map((s) => s.subnet_id),
        leases: leases.map(
          (l): SubnetLease => ({ subnetId: l.subnet_id, runnerRowId: Number(l.runner_id) }),
        ),
        installations: installations.map((i) => ({
          installationId: Number(i.installation_id),
          org: i.org,
        })),
        registeredIn: new Map(
          runners.flatMap((r) =>
            r.runner_id === null || r.installation_id === null || r.org === null
              ? []
              : [
                  [
                    Number(r.runner_id),
                    {
                      installationId: Number(r.installation_id),
                      org: r.org,
                      pool: r.pool,
                      repository: r.repository ?? "",
                    },
                  ],
                ],
          ),
        ),
      };
    });
}

/**
 * Stops launching a job; it stays queued at GitHub. `gave_up_reason` keeps why as a code,
 * `launch_error` in words.
 */
export async function giveUpJob(
  db: Kysely<Database>,
  jobId: number,
  reason: GiveUpReason,
  words: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable("jobs")
    .set({ gave_up_at: now, gave_up_reason: reason, launch_error: words })
    .where("id", "=", jobId)
    .where("gave_up_at", "is", null)
    .execute();
}

/** Queued jobs recorded before `before` to ask GitHub about, by job ID after `afterJobId`. */
export async function queuedJobsToCheck(
  db: Kysely<Database>,
  before: Date,
  afterJobId: number,
  limit: number,
): Promise<{ jobId: number; installationId: number; repository: string }[]> {
  const rows = await db
    .selectFrom("jobs")
    .select(["id", "installation_id", "repository"])
    .where("state", "in", ["queued", "waiting"])
    .where("installation_id", "is not", null)
    .where(sql<Date>`coalesce(queued_at, recorded_at)`, "<", before)
    .where("id", ">", afterJobId)
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    jobId: Number(r.id),
    installationId: Number(r.installation_id),
    repository: r.repository,
  }));
}

/**
 * Closes a job GitHub reports finished (or no longer knows) though no `completed` webhook
 * reached us; a job already completed is left as it is.
 */
export async function closeJob(
  db: Kysely<Database>,
  jobId: number,
  conclusion: string | null,
  now: Date,
): Promise<boolean> {
  const closed = await db
    .updateTable("jobs")
    .set((eb) => ({
      state: "completed",
      conclusion,
      completed_at: eb.fn.coalesce("completed_at", eb.val(now)),
    }))
    .where("id", "=", jobId)
    .where("state", "<>", "completed")
    .executeTakeFirst();
  return Number(closed.numUpdatedRows) > 0;
}
