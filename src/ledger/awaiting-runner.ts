import type { Kysely, Transaction } from "kysely";
import type { Database } from "./db-schema.js";

/**
 * Queued jobs of a pool that have no live runner and have not been given up on: the work
 * the dispatcher launches and the reconciler counts. Select the columns you need from it.
 * A runner whose VM we asked to end (`terminating`) serves no job any more: its job is
 * work again at once, not when the cloud reports the VM gone.
 */
export function jobsAwaitingRunner(db: Kysely<Database> | Transaction<Database>) {
  return db
    .selectFrom("jobs as j")
    .where("j.state", "=", "queued")
    .where("j.pool", "is not", null)
    .where("j.gave_up_at", "is", null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("runners as r")
            .select("r.id")
            .whereRef("r.job_id", "=", "j.id")
            .where("r.state", "in", ["launching", "running"]),
        ),
      ),
    );
}
