import { type Kysely, sql, type Transaction } from "kysely";
import type { Database } from "./db-schema.js";
import type { LedgerSubnet, Subnet } from "./ledger.js";

/** Adds subnets to the pool of runner subnets; known ones are left as they are. */
export async function addSubnets(db: Kysely<Database>, subnets: readonly Subnet[]): Promise<void> {
  if (subnets.length === 0) return;
  await db
    .insertInto("subnets")
    .values(
      subnets.map((s) => ({
        subnet_id: s.subnetId,
        availability_zone: s.availabilityZone,
        cidr: s.cidr,
      })),
    )
    .onConflict((oc) => oc.column("subnet_id").doNothing())
    .execute();
}

/** Leases a free subnet to a runner, preferring zones in the order given; undefined if none is free. */
export async function leaseSubnet(
  db: Kysely<Database>,
  runnerRowId: number,
  zones: readonly string[],
  now: Date,
): Promise<Subnet | undefined> {
  return db.transaction().execute(async (tx) => {
    const held = await tx
      .selectFrom("subnets")
      .select(["subnet_id", "availability_zone", "cidr"])
      .where("runner_id", "=", runnerRowId)
      .executeTakeFirst();
    const free =
      held ??
      (await tx
        .selectFrom("subnets")
        .select(["subnet_id", "availability_zone", "cidr"])
        .where("runner_id", "is", null)
        .where("availability_zone", "in", zones.length > 0 ? [...zones] : [""])
        .orderBy(sql`array_position(${sql.val([...zones])}::text[], availability_zone)`)
        .orderBy("subnet_id")
        .limit(1)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst());
    if (free === undefined) return undefined;
    if (held === undefined) {
      await tx
        .updateTable("subnets")
        .set({ runner_id: runnerRowId, leased_at: now })
        .where("subnet_id", "=", free.subnet_id)
        .execute();
    }
    return { subnetId: free.subnet_id, availabilityZone: free.availability_zone, cidr: free.cidr };
  });
}

/**
 * Returns a runner's subnet lease; releasing a released lease is a no-op. The database's
 * clock stamps `released_at`, which the subnet keeper reads to find long-idle surplus.
 */
export async function releaseSubnet(
  db: Kysely<Database> | Transaction<Database>,
  runnerRowId: number,
): Promise<void> {
  await db
    .updateTable("subnets")
    .set({ runner_id: null, leased_at: null, released_at: sql`now()` })
    .where("runner_id", "=", runnerRowId)
    .execute();
}

/** Every runner subnet the ledger knows, with its lease and how long it has been free. */
export async function listSubnets(db: Kysely<Database>): Promise<LedgerSubnet[]> {
  const rows = await db
    .selectFrom("subnets")
    .select(["subnet_id", "availability_zone", "cidr", "runner_id", "released_at", "created_at"])
    .orderBy("subnet_id")
    .execute();
  return rows.map((r) => ({
    subnetId: r.subnet_id,
    availabilityZone: r.availability_zone,
    cidr: r.cidr,
    leased: r.runner_id !== null,
    freeSince: r.runner_id !== null ? null : (r.released_at ?? r.created_at),
  }));
}

/**
 * Forgets a subnet that holds no lease, so no launch can take it; answers false (and keeps
 * it) when a runner holds it. The cloud's subnet is deleted after this, never before.
 */
export async function removeSubnet(db: Kysely<Database>, subnetId: string): Promise<boolean> {
  const removed = await db
    .deleteFrom("subnets")
    .where("subnet_id", "=", subnetId)
    .where("runner_id", "is", null)
    .executeTakeFirst();
  return Number(removed.numDeletedRows) > 0;
}
