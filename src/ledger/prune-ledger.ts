import { type Kysely, sql } from "kysely";
import type { Database } from "./db-schema.js";
import type { Pruned } from "./report-types.js";

/** Where each kind of record stops being kept (see fleet file `retention`). */
export interface PruneCutoffs {
  readonly deliveries: Date;
  readonly jobs: Date;
  readonly usage: Date;
}

/**
 * Deletes what retention no longer keeps: delivery IDs (received or skipped), completed jobs and the terminated
 * runners of that age, and usage rows of VMs launched before the usage cutoff. Live jobs
 * and VMs are never pruned, whatever their age.
 */
export async function prune(db: Kysely<Database>, cutoffs: PruneCutoffs): Promise<Pruned> {
  return db.transaction().execute(async (tx) => {
    const deliveries = await tx
      .deleteFrom("deliveries")
      .where("received_at", "<", cutoffs.deliveries)
      .executeTakeFirst();
    // Skipped ones go with them: by then GitHub's log no longer lists them either.
    const skipped = await tx
      .deleteFrom("skipped_deliveries")
      .where("skipped_at", "<", cutoffs.deliveries)
      .executeTakeFirst();
    // A runner is kept while a subnet still names it (a lease not yet returned).
    const runners = await tx
      .deleteFrom("runners")
      .where("state", "=", "terminated")
      .where("terminated_at", "<", cutoffs.jobs)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("subnets")
              .select(sql`1`.as("one"))
              .whereRef("subnets.runner_id", "=", "runners.id"),
          ),
        ),
      )
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("jobs")
              .select(sql`1`.as("one"))
              .whereRef("jobs.id", "=", "runners.job_id")
              .where("jobs.state", "<>", "completed"),
          ),
        ),
      )
      .executeTakeFirst();
    const jobs = await tx
      .deleteFrom("jobs")
      .where("state", "=", "completed")
      .where("completed_at", "<", cutoffs.jobs)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("runners")
              .select(sql`1`.as("one"))
              .whereRef("runners.job_id", "=", "jobs.id")
              .where("runners.state", "<>", "terminated"),
          ),
        ),
      )
      .executeTakeFirst();
    const usage = await tx
      .deleteFrom("usage")
      .where("day", "<", cutoffs.usage.toISOString().slice(0, 10))
      .executeTakeFirst();
    return {
      deliveries: Number(deliveries.numDeletedRows) + Number(skipped.numDeletedRows),
      jobs: Number(jobs.numDeletedRows),
      runners: Number(runners.numDeletedRows),
      usage: Number(usage.numDeletedRows),
    };
  });
}
