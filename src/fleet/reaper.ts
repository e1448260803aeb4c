import { usagePricesOf } from "../config/fleet-schema.js";
import type { TerminatedVm } from "../ledger/ledger.js";
import type { FleetDeps } from "./fleet-deps.js";
import { type Loop, startLoop } from "./loop.js";

export type ReaperDeps = FleetDeps;

// One TerminateInstances call takes up to 1000 IDs.
const BATCH = 1000;

/** One reaper round: end the VMs of finished jobs, then record the VMs that are gone. */
export async function reapOnce(
  deps: ReaperDeps,
): Promise<{ terminating: number; deregistered: number; gone: number }> {
  const targets = await deps.ledger.runnersToReap(BATCH, deps.now());
  let deregistered = 0;
  if (targets.length > 0) {
    await deps.cloud.terminate(targets.map((t) => t.instanceId));
    // A runner that ran its job is removed by GitHub; one that never ran must be deleted.
    for (const t of targets) {
      if (t.ranJob || t.runnerId === null || t.installationId === null || t.org === null) continue;
      try {
        const outcome = await deps.github.deleteRunner(t.installationId, t.org, t.runnerId);
        if (outcome !== "busy") deregistered++;
      } catch (error) {
        deps.logger.warn(
          { err: error, runnerId: t.runnerId, jobId: t.jobId },
          "could not deregister a runner",
        );
      }
    }
    await deps.ledger.markTerminating(
      targets.map((t) => t.runnerRowId),
      deps.now(),
    );
  }
  // VMs end by themselves too (job done, watchdog, spot interruption): the cloud says so.
  const now = deps.now();
  const gone: TerminatedVm[] = [];
  for await (const vm of deps.cloud.listOurs()) {
    if (vm.status === "terminated")
      gone.push({ instanceId: vm.instanceId, terminatedAt: now, reason: vm.stateReason });
  }
  const recorded =
    gone.length > 0 ? await deps.ledger.recordTerminated(gone, usagePricesOf(deps.fleet)) : 0;
  return { terminating: targets.length, deregistered, gone: recorded };
}

/** The reaper loop. */
export function startReaper(deps: ReaperDeps, options: { intervalMs: number }): Loop {
  return startLoop("reaper", () => reapOnce(deps), {
    intervalMs: options.intervalMs,
    logger: deps.logger,
    random: deps.random,
  });
}
