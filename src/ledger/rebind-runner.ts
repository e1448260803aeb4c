import { sql, type Transaction } from "kysely";
import type { Job } from "../core/job.js";
import { bindRunner, canServe } from "../core/runner-binding.js";
import type { Database } from "./db-schema.js";

/**
 * When a job was taken by a runner of ours launched for another job, the runner now
 * belongs to the taker. The job left behind then has no live runner, so the dispatcher
 * claims it again; if the taker's own runner is unused and can serve it, it gets that one.
 */
export async function rebindTakenRunner(tx: Transaction<Database>, job: Job): Promise<void> {
  if (job.runnerName === null || (job.state !== "in_progress" && job.state !== "completed")) return;
  const taken = await tx
    .selectFrom("runners")
    .select(["id", "job_id", "launched_at"])
    .where("runner_name", "=", job.runnerName)
    .forUpdate()
    .executeTakeFirst();
  const binding = bindRunner(
    job.id,
    job.runnerName,
    taken ? [{ runnerName: job.runnerName, jobId: taken.job_id }] : [],
  );
  if (binding.kind !== "stolen" || taken === undefined) return;
  await tx.updateTable("runners").set({ job_id: job.id }).where("id", "=", taken.id).execute();
  if (binding.orphanedJob === null) return;
  // A VM that another job took served a job: it does not count toward the cap of VMs that
  // never ran the job they were launched for (limits.maxLaunchesPerJob).
  if (taken.launched_at !== null) {
    await tx
      .updateTable("jobs")
      .set((eb) => ({ vms_launched: sql<number>`greatest(${eb.ref("vms_launched")} - 1, 0)` }))
      .where("id", "=", binding.orphanedJob)
      .execute();
  }

  const orphan = await tx
    .selectFrom("jobs")
    .select(["id", "pool", "labels", "state"])
    .where("id", "=", binding.orphanedJob)
    .executeTakeFirst();
  if (orphan === undefined || orphan.state === "completed") return;
  const spare = await tx
    .selectFrom("runners")
    .select(["id", "pool"])
    .where("job_id", "=", job.id)
    .where("id", "<>", taken.id)
    .where("state", "in", ["launching", "running"])
    .forUpdate()
    .executeTakeFirst();
  if (spare !== undefined && canServe({ pool: spare.pool, labels: job.labels }, orphan)) {
    await tx.updateTable("runners").set({ job_id: orphan.id }).where("id", "=", spare.id).execute();
  }
}
