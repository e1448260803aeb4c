import type { Kysely } from "kysely";
import type { Market } from "../core/launch-attempts.js";
import { isSpotInterruption } from "../core/spot-interruption.js";
import { hostedRateOf, type UsagePrices, usageOf } from "../core/usage-cost.js";
import type { Database } from "./db-schema.js";
import type { ReapTarget, TerminatedVm } from "./ledger.js";
import { releaseSubnet } from "./subnet-ledger.js";

// EC2 takes a terminated VM from "shutting-down" to "terminated" within a minute or two;
// one still listed as ours after that is asked to end again (and its runner deregistered).
const TERMINATE_AGAIN_AFTER_MS = 60_000;

/**
 * Live VMs whose job has ended, or that serve no job any more. `ranJob` tells the reaper
 * whether the runner took the job: one that never did is deregistered before its VM ends.
 * A runner GitHub last called busy is left out until its `deregister_retry_at`, unless it
 * has since been rebound to a job it ran (its `in_progress` arrived, then `completed`).
 */
export async function runnersToReap(
  db: Kysely<Database>,
  limit: number,
  now: Date,
): Promise<ReapTarget[]> {
  const askAgainBefore = new Date(now.getTime() - TERMINATE_AGAIN_AFTER_MS);
  const rows = await db
    .selectFrom("runners as r")
    .leftJoin("jobs as j", "j.id", "r.job_id")
    .select([
      "r.id",
      "r.instance_id",
      "r.runner_id",
      "r.runner_name",
      "r.job_id",
      "r.state",
      "r.pool",
      "j.org",
      "j.repository",
      "j.installation_id",
      "j.runner_name as taken_by",
    ])
    .where((eb) =>
      eb.or([
        eb("r.state", "=", "running"),
        eb.and([
          eb("r.state", "=", "terminating"),
          eb.or([
            eb("r.terminate_asked_at", "is", null),
            eb("r.terminate_asked_at", "<", askAgainBefore),
          ]),
        ]),
      ]),
    )
    .where((eb) => eb.or([eb("j.state", "=", "completed"), eb("r.job_id", "is", null)]))
    .where((eb) =>
      eb.or([
        eb("r.deregister_retry_at", "is", null),
        eb("r.deregister_retry_at", "<=", now),
        eb("j.runner_name", "=", eb.ref("r.runner_name")),
      ]),
    )
    .orderBy("r.id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    runnerRowId: Number(r.id),
    instanceId: r.instance_id as string,
    runnerId: r.runner_id === null ? null : Number(r.runner_id),
    jobId: r.job_id === null ? null : Number(r.job_id),
    org: r.org,
    installationId: r.installation_id === null ? null : Number(r.installation_id),
    pool: r.pool,
    repository: r.repository,
    ranJob: r.taken_by === r.runner_name,
    terminating: r.state === "terminating",
  }));
}

/**
 * Leaves VMs whose runner GitHub would not deregister (busy running a job, or the call
 * failed) out of the reaper's rounds until `until`, so GitHub is not asked in a tight loop.
 */
export async function deferDeregistration(
  db: Kysely<Database>,
  runnerRowIds: readonly number[],
  until: Date,
): Promise<void> {
  if (runnerRowIds.length === 0) return;
  await db
    .updateTable("runners")
    .set({ deregister_retry_at: until })
    .where("id", "in", [...runnerRowIds])
    .where("state", "=", "running")
    .execute();
}

/** Marks VMs whose termination was asked for; repeating it is a no-op. */
export async function markTerminating(
  db: Kysely<Database>,
  runnerRowIds: readonly number[],
  now: Date,
): Promise<void> {
  if (runnerRowIds.length === 0) return;
  await db
    .updateTable("runners")
    .set({ state: "terminating", terminate_asked_at: now })
    .where("id", "in", [...runnerRowIds])
    .where("state", "in", ["running", "terminating"])
    .execute();
}

/**
 * Records VMs the cloud reports gone: the runner row ends, its subnet lease returns, and
 * the VM's usage is written once. Unknown or already-terminated instances are skipped.
 * A job whose webhooks name the VM later is added to its usage then (late-job-usage.ts).
 */
export async function recordTerminated(
  db: Kysely<Database>,
  vms: readonly TerminatedVm[],
  prices: UsagePrices,
): Promise<number> {
  let recorded = 0;
  for (const vm of vms) {
    await db.transaction().execute(async (tx) => {
      const runner = await tx
        .updateTable("runners")
        .set((eb) => ({
          state: "terminated",
          terminated_at: vm.terminatedAt,
          state_reason: vm.reason,
          instance_id: eb.fn.coalesce("instance_id", eb.val(vm.instanceId)),
        }))
        .where((eb) =>
          vm.runnerRowId === undefined
            ? eb("instance_id", "=", vm.instanceId)
            : eb("id", "=", vm.runnerRowId),
        )
        .where("state", "<>", "terminated")
        .returning([
          "id",
          "job_id",
          "pool",
          "runner_name",
          "instance_type",
          "market",
          "availability_zone",
          "launched_at",
        ])
        .executeTakeFirst();
      if (runner === undefined) return;
      recorded++;
      await releaseSubnet(tx, Number(runner.id));
      const job =
        runner.job_id === null
          ? undefined
          : await tx
              .selectFrom("jobs")
              .selectAll()
              .where("id", "=", runner.job_id)
              .executeTakeFirst();
      const ran = job !== undefined && job.runner_name === runner.runner_name;
      const launchedAt = runner.launched_at ?? vm.terminatedAt;
      const market = (runner.market ?? "on-demand") as Market;
      const usage = usageOf(
        {
          launchedAt,
          terminatedAt: vm.terminatedAt,
          startedAt: ran ? job.started_at : null,
          completedAt: ran ? job.completed_at : null,
        },
        { instanceType: runner.instance_type, market },
        prices,
      );
      await tx
        .insertInto("usage")
        .values({
          runner_id: Number(runner.id),
          job_id: ran ? Number(job.id) : null,
          day: launchedAt.toISOString().slice(0, 10),
          org: job?.org ?? "",
          repository: job?.repository ?? "",
          workflow_name: job?.workflow_name ?? null,
          pool: runner.pool,
          instance_type: runner.instance_type,
          market: runner.market,
          availability_zone: runner.availability_zone,
          instance_seconds: usage.instanceSeconds,
          job_seconds: usage.jobSeconds,
          estimated_cost_usd: usage.estimatedCostUsd,
          hosted_equivalent_usd: usage.hostedEquivalentUsd,
          hosted_usd_per_minute: hostedRateOf(runner.instance_type, prices),
          interrupted: isSpotInterruption(vm.reason),
        })
        .onConflict((oc) => oc.column("runner_id").doNothing())
        .execute();
    });
  }
  return recorded;
}
