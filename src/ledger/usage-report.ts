import { type Kysely, sql } from "kysely";
import type { Database } from "./db-schema.js";
import type { UsageDimension, UsageQuery, UsageRow } from "./report-types.js";

// Each dimension's column expression; only these fixed strings ever reach the SQL text.
const COLUMN: Readonly<Record<UsageDimension, string>> = {
  org: "org",
  repo: "repository",
  workflow: "coalesce(workflow_name, '')",
  pool: "pool",
  type: "coalesce(instance_type, '')",
  market: "coalesce(market, '')",
  zone: "coalesce(availability_zone, '')",
  day: "to_char(day, 'YYYY-MM-DD')",
  month: "to_char(day, 'YYYY-MM')",
  job: "coalesce(job_id::text, '')",
};

/**
 * Usage of the VMs launched on days in [since, until), summed per group, costliest first.
 * A VM that ran no job counts toward the repository it was launched for: it is waste.
 */
export async function usageReport(db: Kysely<Database>, query: UsageQuery): Promise<UsageRow[]> {
  const dims = [...new Set(query.by)];
  const keys = dims.map((d, i) => sql`${sql.raw(COLUMN[d])} as ${sql.ref(`k${i}`)}`);
  const groups = dims.map((_, i) => sql.raw(String(i + 1)));
  const rows = await sql<Record<string, string | number>>`
    select ${sql.join([...keys, sql`count(*)::int as vms`], sql`, `)},
      count(job_id)::int as jobs,
      coalesce(sum(instance_seconds), 0)::float8 as instance_seconds,
      coalesce(sum(job_seconds), 0)::float8 as job_seconds,
      coalesce(sum(greatest(instance_seconds - coalesce(job_seconds, 0), 0)), 0)::float8 as waste,
      coalesce(sum(estimated_cost_usd), 0)::float8 as cost,
      coalesce(sum(hosted_equivalent_usd), 0)::float8 as hosted,
      (count(*) - count(estimated_cost_usd))::int as unpriced,
      count(*) filter (where interrupted)::int as interrupted
    from usage
    where day >= ${day(query.since)}::date
      ${query.until === undefined ? sql`` : sql`and day < ${day(query.until)}::date`}
    ${groups.length > 0 ? sql`group by ${sql.join(groups, sql`, `)}` : sql``}
    order by cost desc${groups.length > 0 ? sql`, ${sql.join(groups, sql`, `)}` : sql``}
  `.execute(db);
  return rows.rows
    .filter((r) => Number(r.vms) > 0)
    .map((r) => ({
      key: Object.fromEntries(dims.map((d, i) => [d, String(r[`k${i}`])])),
      vms: Number(r.vms),
      jobs: Number(r.jobs),
      instanceSeconds: Number(r.instance_seconds),
      jobSeconds: Number(r.job_seconds),
      wasteSeconds: Number(r.waste),
      estimatedCostUsd: roundCents(Number(r.cost)),
      hostedEquivalentUsd: roundCents(Number(r.hosted)),
      unpricedVms: Number(r.unpriced),
      interruptedVms: Number(r.interrupted),
    }));
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

// Sums of numeric(…, 4) values come back as float8: round off the binary noise.
function roundCents(usd: number): number {
  return Math.round(usd * 10_000) / 10_000;
}
