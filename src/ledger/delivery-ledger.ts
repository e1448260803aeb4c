import type { Kysely } from "kysely";
import type { Database } from "./db-schema.js";

// Bound parameters per query stay well under PostgreSQL's 65,535.
const CHUNK = 1000;

/** The delivery IDs among `ids` that the ledger holds, received or skipped. */
export async function knownDeliveries(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<Set<string>> {
  const known = new Set<string>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const chunk = unique.slice(i, i + CHUNK);
    const rows = await db
      .selectFrom("deliveries")
      .select("id")
      .where("id", "in", chunk)
      .union(db.selectFrom("skipped_deliveries").select("id").where("id", "in", chunk))
      .execute();
    for (const row of rows) known.add(row.id);
  }
  return known;
}

/** When the newest delivery (received before `before`, if given) reached us. */
export async function latestDeliveryAt(
  db: Kysely<Database>,
  before?: Date,
): Promise<Date | undefined> {
  let query = db.selectFrom("deliveries").select((eb) => eb.fn.max("received_at").as("latest"));
  if (before !== undefined) query = query.where("received_at", "<", before);
  const row = await query.executeTakeFirst();
  return row?.latest == null ? undefined : new Date(row.latest);
}

/** Remembers a delivery that could not be applied, by ID and reason code; a known one stays as it is. */
export async function skipDelivery(
  db: Kysely<Database>,
  id: string,
  reason: string,
  at: Date,
): Promise<void> {
  await db
    .insertInto("skipped_deliveries")
    .values({ id, reason, skipped_at: at })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
}
