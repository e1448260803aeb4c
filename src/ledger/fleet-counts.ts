import { type Kysely, sql } from "kysely";
import type { Database } from "./db-schema.js";
import type { FleetCounts, JobStateName, LatencyPoint } from "./report-types.js";

/** Live jobs by pool and state, live VMs by pool and state, subnets leased and free. */
export async function fleetCounts(db: Kysely<Database>): Promise<FleetCounts> {
  const [jobs, runners, subnets] = await Promise.all([
    db
      .selectFrom("jobs")
      .select(["pool", "state", sql<number>`count(*)::int`.as("count")])
      .where("state", "<>", "completed")
      .groupBy(["pool", "state"])
      .execute(),
    db
      .selectFrom("runners")
      .select(["pool", "state", sql<number>`count(*)::int`.as("count")])
      .where("state", "<>", "terminated")
      .groupBy(["pool", "state"])
      .execute(),
    db
      .selectFrom("subnets")
      .select([
        sql<number>`count(runner_id)::int`.as("leased"),
        sql<number>`(count(*) - count(runner_id))::int`.as("free"),
      ])
      .executeTakeFirstOrThrow(),
  ]);
  return {
    jobs: jobs.map((j) => ({
      pool: j.pool,
      state: j.state as JobStateName,
      count: Number(j.count),
    })),
    runners: runners.map((r) => ({
      pool: r.pool,
      state: r.state as FleetCounts["runners"][number]["state"],
      count: Number(r.count),
    })),
    subnets: { leased: Number(subnets.leased), free: Number(subnets.free) },
  };
}

/** Queue latency (queued to started) per hour of the jobs of our pools started since `since`. */
export async function queueLatency(db: Kysely<Database>, since: Date): Promise<LatencyPoint[]> {
  const wait = sql`extract(epoch from (started_at - queued_at))`;
  const rows = await db
    .selectFrom("jobs")
    .select([
      sql<Date>`date_trunc('hour', started_at)`.as("hour"),
      sql<number>`count(*)::int`.as("jobs"),
      sql<number>`percentile_cont(0.5) within group (order by ${wait})::float8`.as("p50"),
      sql<number>`percentile_cont(0.95) within group (order by ${wait})::float8`.as("p95"),
    ])
    .where("started_at", ">=", since)
    .where("queued_at", "is not", null)
    .where("pool", "is not", null)
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .execute();
  return rows.map((r) => ({
    hour: new Date(r.hour),
    jobs: Number(r.jobs),
    p50Seconds: Math.max(0, Number(r.p50)),
    p95Seconds: Math.max(0, Number(r.p95)),
  }));
}
