import type { Ledger } from "../../ledger/ledger.js";
import { monthStart } from "../../reports/report-request.js";
import type { StatusView } from "./status-view.js";

const LIVE_JOBS_SHOWN = 50;
const DAY_MS = 86_400_000;

/** Reads what the status page shows from the ledger, all as of `now`. */
export async function gatherStatusView(
  ledger: Ledger,
  fleet: { readonly fleet: string; readonly pools: readonly { readonly name: string }[] },
  now: Date,
): Promise<StatusView> {
  const month = monthStart(now);
  const [counts, live, latency, cost] = await Promise.all([
    ledger.fleetCounts(),
    ledger.listJobs({ states: ["waiting", "queued", "in_progress"], limit: LIVE_JOBS_SHOWN }, now),
    ledger.queueLatency(new Date(now.getTime() - DAY_MS)),
    ledger.usageReport({ since: month, by: ["repo"] }),
  ]);
  const jobsByState = { waiting: 0, queued: 0, in_progress: 0 };
  for (const j of counts.jobs) if (j.state !== "completed") jobsByState[j.state] += j.count;
  const pools = new Map(
    fleet.pools.map((p) => [p.name, { launching: 0, running: 0, terminating: 0 }]),
  );
  for (const r of counts.runners) {
    const pool = pools.get(r.pool) ?? { launching: 0, running: 0, terminating: 0 };
    pool[r.state] += r.count;
    pools.set(r.pool, pool);
  }
  return {
    fleet: fleet.fleet,
    generatedAt: now,
    jobsByState,
    liveJobs: [...live].sort((a, b) => (a.queuedAt?.getTime() ?? 0) - (b.queuedAt?.getTime() ?? 0)),
    queueLatency: latency,
    vmsByPool: [...pools].map(([pool, n]) => ({ pool, ...n })),
    monthStart: month,
    costByRepository: cost.map((row) => ({
      repository: row.key.repo ?? "",
      vms: row.vms,
      estimatedCostUsd: row.estimatedCostUsd,
      hostedEquivalentUsd: row.hostedEquivalentUsd,
    })),
  };
}
