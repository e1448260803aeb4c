import { type Kysely, sql } from "kysely";
import { jobsAwaitingRunner } from "./awaiting-runner.js";
import type { Database } from "./db-schema.js";
import type { FleetCounts, JobStateName, LatencyPoint } from "./report-types.js";

/**
 * Live jobs by pool and state, live VMs by pool and state, subnets leased and free, and per
 * pool and repository its live VMs and its queued jobs without one.
 */
export async function fleetCounts(db: Kysely<Database>): Promise<FleetCounts> {
  const [jobs, runners, subnets, repositories] = await Promise.all([
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
    repositoryCounts(db),
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
    repositories,
  };
}

/** Per pool and repository: VMs not terminated serving its jobs, and its jobs awaiting one. */
async function repositoryCounts(db: Kysely<Database>): Promise<FleetCounts["repositories"]> {
  const [runners, awaiting] = await Promise.all([
    db
      .selectFrom("runners as r")
      .innerJoin("jobs as j", "j.id", "r.job_id")
      .select(["r.pool", "j.repository", sql<number>`count(*)::int`.as("n")])
      .where("r.state", "<>", "terminated")
      .groupBy(["r.pool", "j.repository"])
      .execute(),
    jobsAwaitingRunner(db)
      .select(["j.pool", "j.repository", sql<number>`count(*)::int`.as("n")])
      .groupBy(["j.pool", "j.repository"])
      .execute(),
  ]);
  const byKey = new Map<
    string,
    { pool: string; repository: string; runners: number; awaiting: number }
  >();
  const entry = (pool: string, repository: string) => {
    const key = JSON.stringify([pool, repository]);
    const found = byKey.get(key) ?? { pool, repository, runners: 0, awaiting: 0 };
    byKey.set(key, found);
    return found;
  };
  for (const r of runners) entry(r.pool, r.repository).runners = Number(r.n);
  for (const a of awaiting) entry(a.pool as string, a.repository).awaiting = Number(a.n);
  return [...byKey.values()].sort(
    (a, b) => a.pool.localeCompare(b.pool) || a.repository.localeCompare(b.repository),
  );
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
