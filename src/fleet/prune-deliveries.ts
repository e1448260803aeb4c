import type { Ledger } from "../ledger/ledger.js";

/**
 * Forgets webhook delivery IDs older than the retention. Dedup covers that window: GitHub
 * redelivers only when asked, and the reconciler asks about recent deliveries only.
 */
export async function pruneDeliveries(
  ledger: Ledger,
  retentionSeconds: number,
  now: Date,
): Promise<{ pruned: number }> {
  const before = new Date(now.getTime() - retentionSeconds * 1000);
  return { pruned: await ledger.pruneDeliveries(before) };
}
