import type { Market } from "./launch-attempts.js";

/** USD per hour of one instance type, by market (spot absent: priced as on-demand). */
export interface Price {
  readonly onDemand: number;
  readonly spot?: number | undefined;
}

export interface Usage {
  /** Billed seconds: launch to termination (EC2 bills Linux per second, 60 s minimum). */
  readonly instanceSeconds: number;
  /** Seconds the job ran: started to completed, or null if it never started. */
  readonly jobSeconds: number | null;
  /** Estimated cost in USD, or null when the price table does not know the type. */
  readonly estimatedCostUsd: number | null;
}

// https://aws.amazon.com/ec2/pricing/on-demand/ ("per-second billing, 60-second minimum")
const MINIMUM_BILLED_SECONDS = 60;

/** Usage of one VM from its timestamps and the fleet's price table. */
export function usageOf(
  times: { launchedAt: Date; terminatedAt: Date; startedAt: Date | null; completedAt: Date | null },
  market: Market,
  price: Price | undefined,
): Usage {
  const seconds = (from: Date, to: Date) => Math.max(0, (to.getTime() - from.getTime()) / 1000);
  const instanceSeconds = Math.max(
    MINIMUM_BILLED_SECONDS,
    seconds(times.launchedAt, times.terminatedAt),
  );
  const jobSeconds =
    times.startedAt && times.completedAt ? seconds(times.startedAt, times.completedAt) : null;
  const hourly =
    price === undefined
      ? undefined
      : market === "spot"
        ? (price.spot ?? price.onDemand)
        : price.onDemand;
  return {
    instanceSeconds,
    jobSeconds,
    estimatedCostUsd: hourly === undefined ? null : roundCents((instanceSeconds / 3600) * hourly),
  };
}

// Costs are kept to a hundredth of a cent, so report totals add up from per-job rows.
function roundCents(usd: number): number {
  return Math.round(usd * 10_000) / 10_000;
}
