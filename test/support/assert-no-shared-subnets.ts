import { expect } from "vitest";
import type { SimInstance } from "../../src/sim/ec2/sim-ec2.js";

/** What the check reads of a VM: the simulated EC2's record of it (SimInstance). */
export type VmLife = Pick<
  SimInstance,
  "instanceId" | "subnetId" | "launchedAtMs" | "terminatedAtMs"
>;

/**
 * Pairs of VMs that were alive at once in one subnet, in the simulated EC2's own clock.
 * A VM lives from its launch until it is terminated: `shuttingDownMs` after termination
 * began (the sim's shutting-down time), or to this day if it never ended. The controller
 * returns a subnet only once EC2 reports its VM terminated (reap-ledger.ts), so a VM
 * launched into a subnet before then shares it.
 */
export function sharedSubnets(vms: readonly VmLife[], shuttingDownMs: number): string[] {
  const end = (vm: VmLife) =>
    vm.terminatedAtMs === null ? Number.POSITIVE_INFINITY : vm.terminatedAtMs + shuttingDownMs;
  const bySubnet = new Map<string, VmLife[]>();
  for (const vm of vms) bySubnet.set(vm.subnetId, [...(bySubnet.get(vm.subnetId) ?? []), vm]);
  const shared: string[] = [];
  for (const [subnet, lives] of bySubnet) {
    const sorted = lives.sort((a, b) => a.launchedAtMs - b.launchedAtMs);
    for (const [k, vm] of sorted.entries()) {
      for (const earlier of sorted.slice(0, k)) {
        if (end(earlier) > vm.launchedAtMs)
          shared.push(`${vm.instanceId} launched in ${subnet} while ${earlier.instanceId} lived`);
      }
    }
  }
  return shared;
}

/**
 * Asserts that no two VMs with overlapping lives shared a subnet (README: "every VM gets a
 * runner subnet of its own"), and that there were VMs to look at.
 */
export function assertNoSharedSubnets(vms: readonly VmLife[], shuttingDownMs: number): void {
  expect(vms.length, "VMs to check for shared subnets").toBeGreaterThan(0);
  expect(sharedSubnets(vms, shuttingDownMs)).toEqual([]);
}
