export type Market = "spot" | "on-demand";
export type PoolMarket = Market | "spot-then-on-demand";

/** One way to start a pool's VM: an instance type, a market and an Availability Zone. */
export interface LaunchAttempt {
  readonly instanceType: string;
  readonly market: Market;
  readonly availabilityZone: string;
}

/**
 * The order to try launches in when capacity is short: each market in turn (spot before
 * on-demand for `spot-then-on-demand`), within it each Availability Zone, starting from
 * `firstZone` so launches spread over zones, within that each instance type in the pool's
 * order. So a shortage moves to the next type first, then to another zone's subnet, and
 * only then to on-demand.
 */
export function launchAttempts(
  instanceTypes: readonly string[],
  market: PoolMarket,
  zones: readonly string[],
  firstZone = 0,
): LaunchAttempt[] {
  const markets: Market[] = market === "spot-then-on-demand" ? ["spot", "on-demand"] : [market];
  const start = zones.length === 0 ? 0 : ((firstZone % zones.length) + zones.length) % zones.length;
  const rotated = [...zones.slice(start), ...zones.slice(0, start)];
  return markets.flatMap((m) =>
    rotated.flatMap((availabilityZone) =>
      instanceTypes.map((instanceType) => ({ instanceType, market: m, availabilityZone })),
    ),
  );
}

/**
 * Capacity errors move on to the next attempt; anything else stops the launch.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 */
export type LaunchFailure = "capacity" | "zone-unsupported" | "spot-limit" | "fatal";

/** Attempts left after a failure: the same type elsewhere, another type, another market. */
export function remainingAttempts(
  attempts: readonly LaunchAttempt[],
  failed: LaunchAttempt,
  failure: LaunchFailure,
): LaunchAttempt[] {
  if (failure === "fatal") return [];
  const index = attempts.indexOf(failed);
  const rest = index < 0 ? [...attempts] : attempts.slice(index + 1);
  // Past the spot quota no spot launch can succeed; a type unsupported in a zone stays so.
  if (failure === "spot-limit") return rest.filter((a) => a.market !== "spot");
  if (failure === "zone-unsupported") {
    return rest.filter(
      (a) =>
        !(a.instanceType === failed.instanceType && a.availabilityZone === failed.availabilityZone),
    );
  }
  return rest;
}
