import type { Market } from "./launch-attempts.js";

/** USD per hour of one instance type, by market (spot absent: priced as on-demand). */
export interface Price {
  readonly onDemand: number;
  readonly spot?: number | undefined;
  /** vCPUs of the type, to find the GitHub-hosted runner of the same size. */
  readonly vcpus?: number | undefined;
}

/** USD per minute of a GitHub-hosted Linux runner, by its cores. */
export type HostedPrices = Readonly<Record<string, number>>;

/** The fleet file's price tables. */
export interface UsagePrices {
  readonly byType: Readonly<Record<string, Price>>;
  readonly hosted: HostedPrices;
}

export interface Usage {
  /** Billed seconds: launch to termination (EC2 bills Linux per second, 60 s minimum). */
  readonly instanceSeconds: number;
  /** Seconds the job ran on this VM (started to completed), or null if it never started. */
  readonly jobSeconds: number | null;
  /** Estimated cost in USD, or null when the price table does not know the type. */
  readonly estimatedCostUsd: number | null;
  /** The same job on a GitHub-hosted runner of the same size; null when no size matches. */
  readonly hostedEquivalentUsd: number | null;
}

// https://aws.amazon.com/ec2/pricing/on-demand/ ("per-second billing, 60-second minimum")
const MINIMUM_BILLED_SECONDS = 60;

/** Usage of one VM from its timestamps and the fleet's price tables. */
export function usageOf(
  times: { launchedAt: Date; terminatedAt: Date; startedAt: Date | null; completedAt: Date | null },
  vm: { instanceType: string | null; market: Market },
  prices: UsagePrices,
): Usage {
  const seconds = (from: Date, to: Date) => Math.max(0, (to.getTime() - from.getTime()) / 1000);
  const instanceSeconds = Math.max(
    MINIMUM_BILLED_SECONDS,
    seconds(times.launchedAt, times.terminatedAt),
  );
  const jobSeconds = jobSecondsOn(instanceSeconds, times.startedAt, times.completedAt);
  const price = vm.instanceType === null ? undefined : prices.byType[vm.instanceType];
  const hourly =
    price === undefined
      ? undefined
      : vm.market === "spot"
        ? (price.spot ?? price.onDemand)
        : price.onDemand;
  return {
    instanceSeconds,
    jobSeconds,
    estimatedCostUsd: hourly === undefined ? null : roundCents((instanceSeconds / 3600) * hourly),
    hostedEquivalentUsd: hostedCostAt(jobSeconds, hostedRateOf(vm.instanceType, prices)),
  };
}

/** Seconds a job ran (started to completed) on a VM billed `instanceSeconds`; null if it never ran. */
export function jobSecondsOn(
  instanceSeconds: number,
  startedAt: Date | null,
  completedAt: Date | null,
): number | null {
  if (startedAt === null || completedAt === null) return null;
  // GitHub's clock and ours differ a little; a job cannot outlast the VM it ran on.
  const seconds = Math.max(0, (completedAt.getTime() - startedAt.getTime()) / 1000);
  return Math.min(instanceSeconds, seconds);
}

/** USD per minute of the GitHub-hosted runner the size of an instance type; null when none is. */
export function hostedRateOf(instanceType: string | null, prices: UsagePrices): number | null {
  if (instanceType === null) return null;
  const vcpus = prices.byType[instanceType]?.vcpus ?? vcpusByName(instanceType);
  return vcpus === null ? null : hostedRate(vcpus, prices.hosted);
}

/**
 * A GitHub-hosted job is billed by the minute, rounded up, on the smallest runner with at
 * least as many cores; a job that never ran costs nothing there.
 * https://docs.github.com/en/billing/concepts/product-billing/github-actions
 */
export function hostedCost(
  jobSeconds: number | null,
  vcpus: number,
  hosted: HostedPrices,
): number | null {
  return hostedCostAt(jobSeconds, hostedRate(vcpus, hosted));
}

/** USD per minute of the smallest GitHub-hosted runner with at least `vcpus` cores. */
function hostedRate(vcpus: number, hosted: HostedPrices): number | null {
  const sizes = Object.keys(hosted)
    .map(Number)
    .filter((cores) => cores >= vcpus)
    .sort((a, b) => a - b);
  return (sizes[0] === undefined ? undefined : hosted[String(sizes[0])]) ?? null;
}

/** A job's cost on a hosted runner of `perMinute` (see hostedCost); null without a rate. */
export function hostedCostAt(jobSeconds: number | null, perMinute: number | null): number | null {
  if (perMinute === null) return null;
  if (jobSeconds === null) return 0;
  return roundCents(Math.ceil(jobSeconds / 60) * perMinute);
}

/**
 * vCPUs read off an EC2 size name where the families agree: `large` has 2, `xlarge` 4 and
 * `Nxlarge` 4N. Other sizes (`medium`, `metal`, burstable ones) need `vcpus` in the price table.
 */
export function vcpusByName(instanceType: string): number | null {
  const size = instanceType.split(".")[1] ?? "";
  if (size === "large") return 2;
  const match = /^(\d*)xlarge$/.exec(size);
  if (match === null) return null;
  return 4 * (match[1] === "" ? 1 : Number(match[1]));
}

// Costs are kept to a hundredth of a cent, so report totals add up from per-job rows.
function roundCents(usd: number): number {
  return Math.round(usd * 10_000) / 10_000;
}
