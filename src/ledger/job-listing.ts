import type { Kysely } from "kysely";
import type { Database } from "./db-schema.js";
import type { JobFilter, JobListing, JobStateName } from "./report-types.js";

type RunnerState = NonNullable<JobListing["vm"]>["state"];

/**
 * Jobs with their latest VM, most recently recorded first. Live jobs are the ones not
 * completed; `now` measures how long a job not yet started has waited.
 */
export async function listJobs(
  db: Kysely<Database>,
  filter: JobFilter,
  now: Date,
): Promise<JobListing[]> {
  let query = db
    .selectFrom("jobs as j")
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom("runners")
          .select([
            "runner_name",
            "state",
            "instance_id",
            "instance_type",
            "market",
            "availability_zone",
          ])
          .whereRef("runners.job_id", "=", "j.id")
          .orderBy("runners.id", "desc")
          .limit(1)
          .as("r"),
      (join) => join.onTrue(),
    )
    .select([
      "j.id",
      "j.run_id",
      "j.org",
      "j.repository",
      "j.workflow_name",
      "j.job_name",
      "j.pool",
      "j.state",
      "j.conclusion",
      "j.queued_at",
      "j.started_at",
      "j.completed_at",
      "j.launch_error",
      "j.gave_up_at",
      "j.gave_up_reason",
      "r.runner_name",
      "r.state as runner_state",
      "r.instance_id",
      "r.instance_type",
      "r.market",
      "r.availability_zone",
    ]);
  if (filter.states !== undefined && filter.states.length > 0)
    query = query.where("j.state", "in", [...filter.states]);
  if (filter.org !== undefined) query = query.where("j.org", "=", filter.org);
  if (filter.repository !== undefined) query = query.where("j.repository", "=", filter.repository);
  if (filter.pool !== undefined) query = query.where("j.pool", "=", filter.pool);
  if (filter.since !== undefined) query = query.where("j.recorded_at", ">=", filter.since);
  const rows = await query
    .orderBy("j.recorded_at", "desc")
    .orderBy("j.id", "desc")
    .limit(filter.limit)
    .execute();
  return rows.map((r) => ({
    jobId: Number(r.id),
    runId: Number(r.run_id),
    org: r.org,
    repository: r.repository,
    workflowName: r.workflow_name,
    jobName: r.job_name,
    pool: r.pool,
    state: r.state as JobStateName,
    conclusion: r.conclusion,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    queueSeconds: queueSeconds(r.queued_at, r.started_at, r.state === "completed", now),
    vm:
      r.runner_name === null
        ? null
        : {
            runnerName: r.runner_name,
            state: r.runner_state as RunnerState,
            instanceId: r.instance_id,
            instanceType: r.instance_type,
            market: r.market,
            availabilityZone: r.availability_zone,
          },
    launchError: r.state === "completed" ? null : r.launch_error,
    gaveUp:
      r.gave_up_at === null || r.state === "completed"
        ? null
        : { reason: gaveUpReason(r.gave_up_reason), words: r.launch_error ?? "gave up" },
  }));
}

// Jobs given up before migration 0005 kept no code: their launches had failed.
function gaveUpReason(code: string | null): NonNullable<JobListing["gaveUp"]>["reason"] {
  return code === "too-many-launches" ? code : "too-many-launch-failures";
}

function queueSeconds(
  queuedAt: Date | null,
  startedAt: Date | null,
  ended: boolean,
  now: Date,
): number | null {
  if (queuedAt === null) return null;
  const until = startedAt ?? (ended ? null : now);
  if (until === null) return null;
  return Math.max(0, (until.getTime() - queuedAt.getTime()) / 1000);
}
