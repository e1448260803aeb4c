import type { Kysely, Transaction } from "kysely";
import type { Job } from "../core/job.js";
import type { Database } from "./db-schema.js";
import type { AssignmentRow } from "./ledger.js";

/**
 * The ledger's side of the assignment handoff (DESIGN.md, "The assignment endpoint"): the
 * runner row an instance asks as, and the compare-and-set steps that let concurrent asks
 * of one VM, from any replica, register its JIT runner once.
 */

/** The newest runner row of an instance, with the job it serves; undefined when none. */
export async function findAssignment(
  db: Kysely<Database>,
  instanceId: string,
): Promise<AssignmentRow | undefined> {
  const r = await db
    .selectFrom("runners as r")
    .leftJoin("jobs as j", "j.id", "r.job_id")
    .select([
      "r.id",
      "r.state",
      "r.pool",
      "r.runner_name",
      "r.runner_id",
      "r.launched_at",
      "r.assignment_claimed_at",
      "r.assigned_at",
      "r.runner_started_at",
      "j.id as job_id",
      "j.state as job_state",
      "j.labels",
      "j.installation_id",
      "j.org",
      "j.repository",
    ])
    .where("r.instance_id", "=", instanceId)
    .orderBy("r.id", "desc")
    .executeTakeFirst();
  if (r === undefined) return undefined;
  return {
    runnerRowId: Number(r.id),
    instanceId,
    state: r.state as AssignmentRow["state"],
    pool: r.pool,
    runnerName: r.runner_name,
    runnerId: r.runner_id === null ? null : Number(r.runner_id),
    launchedAt: r.launched_at,
    claimedAt: r.assignment_claimed_at,
    assignedAt: r.assigned_at,
    runnerStartedAt: r.runner_started_at,
    job:
      r.job_id === null || r.installation_id === null || r.org === null
        ? null
        : {
            jobId: Number(r.job_id),
            ended: r.job_state === "completed",
            labels: r.labels ?? [],
            installationId: Number(r.installation_id),
            org: r.org,
            repository: r.repository ?? "",
          },
  };
}

/**
 * Takes the right to register this VM's runner: true for one caller only, while no answer
 * has gone out and no other claim is younger than `staleBefore` (a claimer that died gives
 * the claim up by ageing). A VM that is ending gets no claim.
 */
export function claimAssignment(
  db: Kysely<Database>,
  runnerRowId: number,
  now: Date,
  staleBefore: Date,
): Promise<boolean> {
  return claim(db, runnerRowId, now, staleBefore, "first");
}

/**
 * Takes the right to register an answered VM's runner again, when its answer was lost and
 * no process keeps the JIT config: true for one caller only, and never once GitHub has
 * named the runner as running a job.
 */
export function claimReissue(
  db: Kysely<Database>,
  runnerRowId: number,
  now: Date,
  staleBefore: Date,
): Promise<boolean> {
  return claim(db, runnerRowId, now, staleBefore, "again");
}

async function claim(
  db: Kysely<Database>,
  runnerRowId: number,
  now: Date,
  staleBefore: Date,
  which: "first" | "again",
): Promise<boolean> {
  const claimed = await db
    .updateTable("runners")
    .set({ assignment_claimed_at: now })
    .where("id", "=", runnerRowId)
    .where("state", "in", ["launching", "running"])
    .where("runner_started_at", "is", null)
    .where("assigned_at", which === "first" ? "is" : "is not", null)
    .where((eb) =>
      eb.or([
        eb("assignment_claimed_at", "is", null),
        eb("assignment_claimed_at", "<", staleBefore),
      ]),
    )
    .returning("id")
    .executeTakeFirst();
  return claimed !== undefined;
}

/** Records the registration made under a claim and when its answer went out; the claim ends. */
export async function recordAssignment(
  db: Kysely<Database>,
  runnerRowId: number,
  runnerId: number,
  now: Date,
): Promise<void> {
  await db
    .updateTable("runners")
    .set((eb) => ({
      runner_id: runnerId,
      assigned_at: eb.fn.coalesce("assigned_at", eb.val(now)),
      assignment_claimed_at: null,
    }))
    .where("id", "=", runnerRowId)
    .execute();
}

/** Gives a claim up (GitHub could not register the runner): the VM's next ask tries again. */
export async function releaseAssignmentClaim(
  db: Kysely<Database>,
  runnerRowId: number,
): Promise<void> {
  await db
    .updateTable("runners")
    .set({ assignment_claimed_at: null })
    .where("id", "=", runnerRowId)
    .execute();
}

/**
 * Notes when GitHub first named a runner of ours as running a job (`in_progress` or a later
 * event): from then on, an ask for its assignment is a replay, never answered.
 */
export async function markRunnerStarted(
  tx: Transaction<Database>,
  job: Job,
  at: Date,
): Promise<void> {
  if (job.runnerName === null || (job.state !== "in_progress" && job.state !== "completed")) return;
  await tx
    .updateTable("runners")
    .set({ runner_started_at: at })
    .where("runner_name", "=", job.runnerName)
    .where("runner_started_at", "is", null)
    .execute();
}
