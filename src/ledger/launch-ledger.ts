import { type Kysely, sql, type Transaction } from "kysely";
import { type PendingJob, planDispatch } from "../core/dispatch-plan.js";
import { runnerName } from "../core/runner-name.js";
import { jobsAwaitingRunner } from "./awaiting-runner.js";
import type { Database } from "./db-schema.js";
import type { ClaimRequest, LaunchedVm, LaunchIntent } from "./ledger.js";
import { retryOnDeadlock } from "./retry-on-deadlock.js";
import { releaseSubnet } from "./subnet-ledger.js";

// One dispatcher at a time decides, so pool limits hold across replicas; jobs stay
// SKIP LOCKED so a dispatch never waits on intake writing the same job.
const DISPATCH_LOCK = "mayfly:dispatch";

/**
 * Claims queued jobs without a live runner, chooses which to launch now (core/dispatch-plan)
 * and writes a `launching` runner row for each: the intent, written before any call to
 * GitHub or EC2, whose runner name is also the launch's idempotency token.
 */
export async function claimLaunches(
  db: Kysely<Database>,
  req: ClaimRequest,
): Promise<LaunchIntent[]> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${DISPATCH_LOCK}))`.execute(tx);
    const candidates = await jobsAwaitingRunner(tx)
      .where("j.id", "in", fairWindow(tx, req))
      .select([
        "j.id",
        "j.pool",
        "j.repository",
        "j.queued_at",
        "j.recorded_at",
        "j.next_launch_at",
        "j.vms_launched",
      ])
      .orderBy(QUEUE_ORDER)
      .orderBy("j.id")
      .forUpdate("j")
      .skipLocked()
      .execute();
    const live = await tx
      .selectFrom("runners")
      .select(["pool", sql<number>`count(*)::int`.as("n")])
      .where("state", "<>", "terminated")
      .groupBy("pool")
      .execute();
    // Counted only when some pool has a per-repository cap.
    const caps = req.repositoryCaps;
    const capped = caps !== undefined && (caps.byPool.size > 0 || caps.fleet !== undefined);
    const liveByRepository = capped ? await liveRunnersByRepository(tx) : undefined;
    const pending: PendingJob[] = candidates.map((c) => ({
      jobId: Number(c.id),
      pool: c.pool as string,
      repository: c.repository,
      queuedAt: c.queued_at ?? c.recorded_at,
      notBefore: c.next_launch_at,
      vmsLaunched: Number(c.vms_launched),
    }));
    const chosen = planDispatch(
      pending,
      {
        liveByPool: new Map(live.map((l) => [l.pool, Number(l.n)])),
        maxByPool: req.maxByPool,
        fleetMax: req.fleetMax,
        budget: req.budget,
        maxLaunchesPerJob: req.maxLaunchesPerJob,
        ...(capped ? { repositoryCaps: caps, liveByRepository } : {}),
      },
      req.now,
    );
    const intents: LaunchIntent[] = [];
    for (const pick of chosen) {
      const job = await tx
        .updateTable("jobs")
        .set((eb) => ({ launches: eb("launches", "+", 1) }))
        .where("id", "=", pick.jobId)
        .returning([
          "id",
          "launches",
          "installation_id",
          "org",
          "repository",
          "labels",
          "run_id",
          "launch_failures",
          "vms_launched",
        ])
        .executeTakeFirstOrThrow();
      const name = runnerName(req.fleet, pick.jobId, job.launches);
      const runner = await tx
        .insertInto("runners")
        .values({
          job_id: pick.jobId,
          pool: pick.pool,
          runner_name: name,
          launch_token: name,
          state: "launching",
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      intents.push({
        runnerRowId: Number(runner.id),
        jobId: pick.jobId,
        runId: Number(job.run_id),
        pool: pick.pool,
        runnerName: name,
        launchToken: name,
        installationId: job.installation_id === null ? null : Number(job.installation_id),
        org: job.org,
        repository: job.repository,
        labels: job.labels,
        launchFailures: job.launch_failures,
        vmsLaunched: Number(job.vms_launched),
      });
    }
    return intents;
  });
}

const QUEUE_ORDER = sql`coalesce(j.queued_at, j.recorded_at)`;

/**
 * The IDs of the jobs a round looks at: of each repository in each pool, its oldest `budget`
 * jobs that may launch now (no round gives one repository more), so that a matrix at the head
 * of the queue cannot hide the other repositories' jobs; past `scanLimit` rows, later turns
 * are left out first. Row locks are taken by the caller: PostgreSQL refuses FOR UPDATE
 * beside a window function.
 */
function fairWindow(tx: Transaction<Database>, req: ClaimRequest) {
  const ranked = jobsAwaitingRunner(tx)
    .where((eb) =>
      eb.or([eb("j.next_launch_at", "is", null), eb("j.next_launch_at", "<=", req.now)]),
    )
    .where("j.vms_launched", "<", req.maxLaunchesPerJob)
    .select([
      "j.id",
      sql<Date>`${QUEUE_ORDER}`.as("queued"),
      sql<number>`row_number() over (partition by j.pool, j.repository order by ${QUEUE_ORDER}, j.id)`.as(
        "turn",
      ),
    ]);
  return tx
    .selectFrom(ranked.as("w"))
    .select("w.id")
    .where("w.turn", "<=", Math.max(0, req.budget))
    .orderBy("w.turn")
    .orderBy("w.queued")
    .orderBy("w.id")
    .limit(req.scanLimit ?? 500);
}

/** Live runners per pool and repository of the job each serves (one serving no job counts for none). */
async function liveRunnersByRepository(
  tx: Transaction<Database>,
): Promise<Map<string, Map<string, number>>> {
  const rows = await tx
    .selectFrom("runners as r")
    .innerJoin("jobs as j", "j.id", "r.job_id")
    .select(["r.pool", "j.repository", sql<number>`count(*)::int`.as("n")])
    .where("r.state", "<>", "terminated")
    .groupBy(["r.pool", "j.repository"])
    .execute();
  const byPool = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const repos = byPool.get(row.pool) ?? new Map<string, number>();
    repos.set(row.repository, Number(row.n));
    byPool.set(row.pool, repos);
  }
  return byPool;
}

/** Records a started VM against its intent; a second report of the same launch is a no-op. */
export async function recordLaunch(
  db: Kysely<Database>,
  runnerRowId: number,
  vm: LaunchedVm,
): Promise<void> {
  // A steal re-binding the runner between the two locks below can still deadlock with
  // intake; PostgreSQL then aborts one side, and this side simply runs again.
  await retryOnDeadlock(() => recordLaunchOnce(db, runnerRowId, vm));
}

async function recordLaunchOnce(
  db: Kysely<Database>,
  runnerRowId: number,
  vm: LaunchedVm,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    // The job's row before its runner's, the order ingest locks them in (rebind-runner.ts):
    // the other order deadlocks with a job taking a runner of the job being recorded.
    await tx
      .selectFrom("jobs")
      .select("id")
      .where("id", "=", (eb) =>
        eb.selectFrom("runners").select("job_id").where("id", "=", runnerRowId),
      )
      .forUpdate()
      .execute();
    const runner = await tx
      .updateTable("runners")
      .set({
        state: "running",
        instance_id: vm.instanceId,
        instance_type: vm.instanceType,
        market: vm.market,
        availability_zone: vm.availabilityZone,
        runner_id: vm.runnerId,
        launched_at: vm.launchedAt,
      })
      .where("id", "=", runnerRowId)
      .where("state", "=", "launching")
      .returning("job_id")
      .executeTakeFirst();
    if (runner?.job_id == null) return;
    await tx
      .updateTable("jobs")
      .set((eb) => ({
        launched_at: vm.launchedAt,
        launch_failures: 0,
        next_launch_at: null,
        launch_error: null,
        vms_launched: eb("vms_launched", "+", 1),
      }))
      .where("id", "=", runner.job_id)
      .execute();
  });
}

/**
 * Records a launch that failed before a VM existed: the runner row ends, its subnet lease
 * is returned, and the job waits until `retryAt` to be claimed again.
 */
export async function recordLaunchFailure(
  db: Kysely<Database>,
  runnerRowId: number,
  reason: string,
  retryAt: Date,
  now: Date,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const jobId = await endLaunchIntent(tx, runnerRowId, reason, now);
    if (jobId === null) return;
    await tx
      .updateTable("jobs")
      .set((eb) => ({
        launch_failures: eb("launch_failures", "+", 1),
        next_launch_at: retryAt,
        launch_error: reason,
      }))
      .where("id", "=", jobId)
      .execute();
  });
}

/**
 * Ends an intent that was not carried out because GitHub says a runner has its job already
 * (`started`) or the job is over (`close`): the row ends with `reason`, no failure counts
 * against the job, and the job's state moves forward to GitHub's. The runner's name is left
 * to the `in_progress` webhook, so that applying it still rebinds a runner of ours that took
 * the job (rebind-runner.ts).
 */
export async function settleWithoutLaunch(
  db: Kysely<Database>,
  runnerRowId: number,
  outcome: { readonly kind: "started" | "close"; readonly conclusion: string | null },
  reason: string,
  now: Date,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const jobId = await endLaunchIntent(tx, runnerRowId, reason, now);
    if (jobId === null) return;
    const job = tx.updateTable("jobs").where("id", "=", jobId);
    if (outcome.kind === "close") {
      await job
        .set((eb) => ({
          state: "completed",
          conclusion: eb.fn.coalesce("conclusion", eb.val(outcome.conclusion)),
          completed_at: eb.fn.coalesce("completed_at", eb.val(now)),
        }))
        .where("state", "<>", "completed")
        .execute();
    } else {
      await job.set({ state: "in_progress" }).where("state", "in", ["waiting", "queued"]).execute();
    }
  });
}

/**
 * Ends a launch intent that produced no VM and returns its subnet lease; gives the job it was
 * for, or null when the row was not launching any more (or served no job).
 */
async function endLaunchIntent(
  tx: Transaction<Database>,
  runnerRowId: number,
  reason: string,
  now: Date,
): Promise<number | null> {
  const runner = await tx
    .updateTable("runners")
    .set({ state: "terminated", state_reason: reason, terminated_at: now })
    .where("id", "=", runnerRowId)
    .where("state", "=", "launching")
    .returning("job_id")
    .executeTakeFirst();
  if (runner === undefined) return null;
  await releaseSubnet(tx, runnerRowId);
  return runner.job_id == null ? null : Number(runner.job_id);
}
