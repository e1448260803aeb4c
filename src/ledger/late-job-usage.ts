import type { Transaction } from "kysely";
import type { Job } from "../core/job.js";
import { hostedCostAt, jobSecondsOn } from "../core/usage-cost.js";
import type { Database } from "./db-schema.js";

/**
 * Adds a job to the usage of the VM it ran on when GitHub names that VM's runner only after
 * the VM's usage was written (recordTerminated): a VM that powers off before its job's
 * `in_progress` or `completed` is ingested. The usage then carries the job, its repository
 * and workflow, and the job seconds and hosted equivalent recordTerminated would have
 * written. A usage row already bound to another job is left as it is.
 */
export async function addLateJobToUsage(tx: Transaction<Database>, job: Job): Promise<void> {
  if (job.runnerName === null || (job.state !== "in_progress" && job.state !== "completed")) return;
  const usage = await tx
    .selectFrom("usage as u")
    .innerJoin("runners as r", "r.id", "u.runner_id")
    .select(["u.runner_id", "u.instance_seconds", "u.hosted_usd_per_minute"])
    .where("r.runner_name", "=", job.runnerName)
    .where((eb) => eb.or([eb("u.job_id", "is", null), eb("u.job_id", "=", job.id)]))
    .forUpdate("u")
    .executeTakeFirst();
  if (usage === undefined) return;
  // numeric columns come back as strings from the driver.
  const jobSeconds = jobSecondsOn(Number(usage.instance_seconds), job.startedAt, job.completedAt);
  const rate = usage.hosted_usd_per_minute === null ? null : Number(usage.hosted_usd_per_minute);
  await tx
    .updateTable("usage")
    .set({
      job_id: job.id,
      org: job.org,
      repository: job.repository,
      workflow_name: job.workflowName,
      job_seconds: jobSeconds,
      // A row written before its rate was kept (migration 0008) keeps its figure.
      ...(rate === null ? {} : { hosted_equivalent_usd: hostedCostAt(jobSeconds, rate) }),
    })
    .where("runner_id", "=", usage.runner_id)
    .execute();
}
