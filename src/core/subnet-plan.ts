import { freeBlocks } from "./cidr.js";

/** A runner subnet as the keeper sees it. */
export interface SubnetSlot {
  readonly subnetId: string;
  readonly cidr: string;
  readonly availabilityZone: string;
  readonly leased: boolean;
  /** When it was last given back; null while leased. */
  readonly freeSince: Date | null;
}

export interface SubnetPlanInput {
  /** The range runner subnets are carved from, and each one's prefix length. */
  readonly range: string;
  readonly prefixLength: number;
  /** The fleet's zones, in its order. */
  readonly zones: readonly string[];
  readonly subnets: readonly SubnetSlot[];
  /** CIDRs in use in the VPC that are not runner subnets of ours. */
  readonly otherCidrs: readonly string[];
  readonly maxSubnets: number;
  /** Free subnets to keep ready between jobs. */
  readonly idleSubnets: number;
  /** Free subnets wanted right now, for launches waiting. */
  readonly wanted: number;
  /** A free subnet beyond the target is deleted once unused this long. */
  readonly idleTtlSeconds: number;
  readonly now: Date;
}

export interface SubnetToCreate {
  readonly cidr: string;
  readonly availabilityZone: string;
}

export interface SubnetPlan {
  readonly create: readonly SubnetToCreate[];
  /** Free subnets to delete (idle surplus, or in a zone the fleet no longer uses). */
  readonly remove: readonly string[];
}

/**
 * How many runner subnets to create or delete so that `max(idleSubnets, wanted)` are free,
 * within `maxSubnets`. New subnets go to the zones with the fewest free ones, so launches
 * can fall back across zones; surplus goes only after it has been unused `idleTtlSeconds`,
 * so a burst's subnets are reused by the next burst instead of churned.
 */
export function planSubnets(input: SubnetPlanInput): SubnetPlan {
  const inZones = new Set(input.zones);
  const stray = input.subnets.filter((s) => !s.leased && !inZones.has(s.availabilityZone));
  const usable = input.subnets.filter((s) => inZones.has(s.availabilityZone));
  const free = usable.filter((s) => !s.leased);
  const target = Math.max(input.idleSubnets, input.wanted);
  const total = input.subnets.length - stray.length;

  const createCount = Math.max(0, Math.min(target - free.length, input.maxSubnets - total));
  const cidrs = freeBlocks(
    input.range,
    input.prefixLength,
    [...input.subnets.map((s) => s.cidr), ...input.otherCidrs],
    createCount,
  );
  const freeByZone = new Map(input.zones.map((z) => [z, 0]));
  for (const s of free)
    freeByZone.set(s.availabilityZone, (freeByZone.get(s.availabilityZone) ?? 0) + 1);
  const create = cidrs.map((cidr) => {
    const zone = leastFree(input.zones, freeByZone);
    freeByZone.set(zone, (freeByZone.get(zone) ?? 0) + 1);
    return { cidr, availabilityZone: zone };
  });

  const cutoff = input.now.getTime() - input.idleTtlSeconds * 1000;
  const surplus = free
    .filter((s) => s.freeSince !== null && s.freeSince.getTime() <= cutoff)
    .sort((a, b) => (a.freeSince?.getTime() ?? 0) - (b.freeSince?.getTime() ?? 0))
    .slice(0, Math.max(0, free.length - target));
  return { create, remove: [...stray, ...surplus].map((s) => s.subnetId) };
}

function leastFree(zones: readonly string[], freeByZone: ReadonlyMap<string, number>): string {
  let best = zones[0] as string;
  for (const zone of zones) {
    if ((freeByZone.get(zone) ?? 0) < (freeByZone.get(best) ?? 0)) best = zone;
  }
  return best;
}
