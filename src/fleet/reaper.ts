import { usagePricesOf } from "../config/fleet-schema.js";
import { afterDeregistration, reapStep } from "../core/reap-step.js";
import type { ReapTarget, TerminatedVm } from "../ledger/ledger.js";
import type { FleetDeps } from "./fleet-deps.js";
import { type Loop, startLoop } from "./loop.js";
import { registeredRepository } from "./registered-repository.js";

export type ReaperDeps = FleetDeps;

// One TerminateInstances call takes up to 1000 IDs.
const BATCH = 1000;
// GitHub writes are spaced a second apart (octokit-github.ts), so a round asks only so many
// and the rest wait for the next: the round, and the VMs it ends, are not held for minutes.
const DEREGISTRATIONS_PER_ROUND = 20;
// A runner busy with a job GitHub gave it is asked about again after this, not every round:
// by then its `in_progress` has usually rebound it, or the job has ended and GitHub removed it.
const BUSY_RETRY_MS = 60_000;

export type ReapRound = {
  /** VMs asked to end this round. */
  readonly terminating: number;
  /** Registrations GitHub deleted this round. */
  readonly deregistered: number;
  /** VMs left running because GitHub said their runner is running a job (or did not answer). */
  readonly leftBusy: number;
  /** VMs the cloud reported gone and the ledger recorded. */
  readonly gone: number;
};

/**
 * One reaper round: end the VMs of finished jobs, deregistering first every runner that may
 * still take a job (core/reap-step.ts), then record the VMs that are gone.
 */
export async function reapOnce(deps: ReaperDeps): Promise<ReapRound> {
  const now = deps.now();
  const targets = await deps.ledger.runnersToReap(BATCH, now);
  const ready = targets.filter((t) => reapStep(candidateOf(t)) === "terminate");
  await terminate(deps, ready);
  const ask = targets
    .filter((t) => reapStep(candidateOf(t)) === "deregister-first")
    .slice(0, DEREGISTRATIONS_PER_ROUND);
  const deregistered: ReapTarget[] = [];
  const left: ReapTarget[] = [];
  let deleted = 0;
  for (const t of ask) {
    const outcome = await deregister(deps, t);
    if (outcome === "deleted") deleted++;
    if (outcome !== "failed" && afterDeregistration(outcome) === "terminate") deregistered.push(t);
    else left.push(t);
  }
  await terminate(deps, deregistered);
  await deps.ledger.deferDeregistration(
    left.map((t) => t.runnerRowId),
    new Date(now.getTime() + BUSY_RETRY_MS),
  );
  // VMs end by themselves too (job done, watchdog, spot interruption): the cloud says so.
  const seen = deps.now();
  const gone: TerminatedVm[] = [];
  for await (const vm of deps.cloud.listOurs()) {
    if (vm.status === "terminated")
      gone.push({ instanceId: vm.instanceId, terminatedAt: seen, reason: vm.stateReason });
  }
  const recorded =
    gone.length > 0 ? await deps.ledger.recordTerminated(gone, usagePricesOf(deps.fleet)) : 0;
  return {
    terminating: ready.length + deregistered.length,
    deregistered: deleted,
    leftBusy: left.length,
    gone: recorded,
  };
}

function candidateOf(t: ReapTarget) {
  return {
    terminating: t.terminating,
    runnerId: t.runnerId,
    ranJob: t.ranJob,
    registeredWhere: t.installationId !== null && t.org !== null,
  };
}

/** Deletes the runner's registration; "failed" when GitHub could not be asked (logged). */
async function deregister(
  deps: ReaperDeps,
  t: ReapTarget,
): Promise<"deleted" | "gone" | "busy" | "failed"> {
  if (t.runnerId === null || t.installationId === null || t.org === null) return "failed";
  try {
    const outcome = await deps.github.deleteRunner(
      t.installationId,
      t.org,
      t.runnerId,
      registeredRepository(deps.fleet.pools, t.pool, t.repository),
    );
    if (outcome === "busy")
      deps.logger.info(
        { runnerId: t.runnerId, jobId: t.jobId, instanceId: t.instanceId },
        "runner is running a job: its VM is left running",
      );
    return outcome;
  } catch (error) {
    deps.logger.warn(
      { err: error, runnerId: t.runnerId, jobId: t.jobId, instanceId: t.instanceId },
      "could not deregister a runner: its VM is left running",
    );
    return "failed";
  }
}

/** Ends VMs in one TerminateInstances call and marks their rows. */
async function terminate(deps: ReaperDeps, targets: readonly ReapTarget[]): Promise<void> {
  if (targets.length === 0) return;
  await deps.cloud.terminate(targets.map((t) => t.instanceId));
  await deps.ledger.markTerminating(
    targets.map((t) => t.runnerRowId),
    deps.now(),
  );
}

/** The reaper loop. */
export function startReaper(deps: ReaperDeps, options: { intervalMs: number }): Loop {
  return startLoop("reaper", () => reapOnce(deps), {
    intervalMs: options.intervalMs,
    logger: deps.logger,
    random: deps.random,
  });
}
