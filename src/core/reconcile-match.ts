import type { LedgerRunner, ObservedVm, ObservedVmStatus } from "./reconcile-snapshot.js";

/** Which listed VM each runner row stands for, and which row each VM belongs to. */
export interface VmMatch {
  readonly vmOfRow: ReadonlyMap<number, ObservedVm>;
  readonly rowOfVm: ReadonlyMap<string, LedgerRunner>;
}

/** Statuses in which a VM still runs (or could run again) and costs money. */
export function isLive(status: ObservedVmStatus): boolean {
  return status !== "shutting-down" && status !== "terminated";
}

/**
 * Pairs runner rows with VMs: by instance ID when the row recorded one, else by the runner
 * name tag, since a launch that crashed before `recordLaunch` leaves a VM the ledger knows
 * only by name. A VM named by another row's instance ID is never taken by name; among
 * several VMs with one name the oldest is the row's (whatever its status, so the pairing
 * does not change when the plan ends one) and the others are orphans.
 */
export function matchVms(runners: readonly LedgerRunner[], vms: readonly ObservedVm[]): VmMatch {
  const byId = new Map(vms.map((vm) => [vm.instanceId, vm]));
  const claimed = new Set(runners.flatMap((r) => (r.instanceId === null ? [] : [r.instanceId])));
  const vmOfRow = new Map<number, ObservedVm>();
  const rowOfVm = new Map<string, LedgerRunner>();
  const pair = (row: LedgerRunner, vm: ObservedVm) => {
    vmOfRow.set(row.rowId, vm);
    rowOfVm.set(vm.instanceId, row);
  };
  for (const row of runners) {
    if (row.instanceId === null) continue;
    const vm = byId.get(row.instanceId);
    if (vm !== undefined) pair(row, vm);
  }
  const byName = new Map<string, ObservedVm[]>();
  for (const vm of vms) {
    if (vm.runnerName === null || claimed.has(vm.instanceId)) continue;
    byName.set(vm.runnerName, [...(byName.get(vm.runnerName) ?? []), vm]);
  }
  for (const row of runners) {
    if (row.instanceId !== null) continue;
    const [vm] = [...(byName.get(row.runnerName) ?? [])].sort(
      (a, b) =>
        a.launchedAt.getTime() - b.launchedAt.getTime() || a.instanceId.localeCompare(b.instanceId),
    );
    if (vm !== undefined && !rowOfVm.has(vm.instanceId)) pair(row, vm);
  }
  return { vmOfRow, rowOfVm };
}

/** When a row's VM started, or, before that is recorded, when its launch was decided. */
export function launchedSince(row: LedgerRunner): Date {
  return row.launchedAt ?? row.createdAt;
}
