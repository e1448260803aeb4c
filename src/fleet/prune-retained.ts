import type { FleetConfig } from "../config/fleet-schema.js";
import type { Ledger } from "../ledger/ledger.js";
import type { Pruned } from "../ledger/report-types.js";

/**
 * Deletes what the fleet file's retention no longer keeps: delivery IDs after a few days
 * (dedup and recovery look no further back), job detail after `jobs`, usage after `usage`.
 */
export function pruneRetained(
  ledger: Ledger,
  retention: FleetConfig["retention"],
  now: Date,
): Promise<Pruned> {
  const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
  return ledger.prune({
    deliveries: ago(retention.deliveries),
    jobs: ago(retention.jobs),
    usage: ago(retention.usage),
  });
}
