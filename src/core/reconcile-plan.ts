import { isLive, launchedSince, matchVms, type VmMatch } from "./reconcile-match.js";
import type {
  LedgerRunner,
  ObservedRegistration,
  ObservedVm,
  PoolLimits,
  ReconcileSnapshot,
} from "./reconcile-snapshot.js";
import { parseRunnerName } from "./runner-name.js";
import { isSpotInterruption } from "./spot-interruption.js";

/** Why a VM is ended. */
export type TerminateReason =
  | "orphan"
  | "job-ended"
  | "past-max-lifetime"
  | "never-asked"
  | "idle-past-timeout";

/** End a live VM (and mark its runner row terminating, if it has one). */
export interface TerminateAction {
  readonly instanceId: string;
  readonly runnerRowId: number | null;
  readonly reason: TerminateReason;
  /** Seconds since the cloud started it. */
  readonly ageSeconds: number;
  /**
   * The registration to delete first: the VM is ended only if GitHub then no longer has the
   * runner (deleted, or 404); a busy answer (422) leaves it. The listing's ID, else the
   * ledger's; null when neither knows one (never registered), or past the max lifetime,
   * which ends the VM whatever it runs.
   */
  readonly deregisterFirst: number | null;
}

/** Why a runner row is ended: the cloud took a spot VM back, ended it, or lists it no more. */
export type EndedReason = "spot-interrupted" | "vm-terminated" | "vm-gone";

/** End a runner row whose VM is gone: closes usage and returns its subnet lease. */
export interface RecordTerminatedAction {
  readonly runnerRowId: number;
  readonly instanceId: string;
  readonly reason: EndedReason;
  /** The cloud's own words, kept for the ledger; null when it lists the VM no more. */
  readonly cloudReason: string | null;
}

/** Fail a launch intent that never produced a VM: the job is launched again, the lease returns. */
export interface AbandonLaunchAction {
  readonly runnerRowId: number;
  readonly jobId: number | null;
  readonly reason: "no-vm-after-grace";
}

/** Remove an offline, idle registration of ours. */
export interface DeleteRunnerAction {
  readonly runnerId: number;
  readonly runnerName: string;
  readonly reason: "vm-gone" | "vm-never-existed";
}

/** Return a subnet whose holder is no longer a live runner row. */
export interface ReleaseSubnetAction {
  readonly subnetId: string;
  readonly runnerRowId: number;
  readonly reason: "holder-not-live";
}

/** Why a queued job is no longer launched: its launches kept failing, or it had its VMs. */
export type GiveUpReason = "too-many-launch-failures" | "too-many-launches";

/** Stop launching a queued job. */
export interface GiveUpAction {
  readonly jobId: number;
  readonly pool: string;
  readonly reason: GiveUpReason;
  readonly launchFailures: number;
  /** VMs started for the job so far. */
  readonly vmsLaunched: number;
}

/** What one reconcile pass does; each list is ordered and capped by the options. */
export interface ReconcilePlan {
  readonly terminate: readonly TerminateAction[];
  readonly recordTerminated: readonly RecordTerminatedAction[];
  readonly abandonLaunch: readonly AbandonLaunchAction[];
  readonly deleteRunners: readonly DeleteRunnerAction[];
  readonly releaseSubnets: readonly ReleaseSubnetAction[];
  readonly giveUp: readonly GiveUpAction[];
  /**
   * Queued jobs the dispatcher will launch again: those without a runner, and those whose
   * VM this plan ends as idle (its row then no longer counts as the job's runner).
   */
  readonly relaunchCount: number;
}

export interface ReconcileOptions {
  /** A queued job is given up once its failed launches reach this. */
  readonly maxLaunchFailures: number;
  /** A queued job is given up once this many VMs were started for it. Default: no cap. */
  readonly maxLaunchesPerJob?: number;
  /** Most actions of each kind in one pass (the API budget); the rest wait. Default: no cap. */
  readonly maxActionsPerKind?: number;
}

/**
 * The reconciler's decisions for one pass, from the ledger, the cloud and GitHub
 * (DESIGN.md, "The life of a job", 7). Pure and idempotent: applying the plan and planning
 * again yields no new action. It never ends a VM whose runner the ledger says took a job
 * that has not ended, while within its pool's max lifetime. Nothing is judged at or inside
 * a boundary: only strictly past a timeout or the launch grace.
 */
export function planReconcile(
  snapshot: ReconcileSnapshot,
  options: ReconcileOptions,
): ReconcilePlan {
  const cap = options.maxActionsPerKind ?? Number.POSITIVE_INFINITY;
  if (!(cap >= 0)) throw new RangeError("maxActionsPerKind must be zero or more");
  const take = <T>(actions: T[]): T[] => actions.slice(0, cap);
  const match = matchVms(snapshot.runners, snapshot.vms);
  const { recordTerminated, abandonLaunch } = planEndedRows(snapshot, match);
  const live = new Set(snapshot.runners.map((r) => r.rowId));
  const queued = [...snapshot.queuedJobs].sort(
    (a, b) => a.queuedAt.getTime() - b.queuedAt.getTime() || a.jobId - b.jobId,
  );
  const maxLaunches = options.maxLaunchesPerJob ?? Number.POSITIVE_INFINITY;
  const giveUp = queued.flatMap((j): GiveUpAction[] => {
    const reason: GiveUpReason | undefined =
      j.launchFailures >= options.maxLaunchFailures
        ? "too-many-launch-failures"
        : j.vmsLaunched >= maxLaunches
          ? "too-many-launches"
          : undefined;
    if (reason === undefined) return [];
    const { jobId, pool, launchFailures, vmsLaunched } = j;
    return [{ jobId, pool, reason, launchFailures, vmsLaunched }];
  });
  const terminate = take(planTerminations(snapshot, match));
  return {
    terminate,
    recordTerminated: take(recordTerminated),
    abandonLaunch: take(abandonLaunch),
    deleteRunners: take(planDeletions(snapshot, match)),
    releaseSubnets: take(
      snapshot.leases
        .filter((l) => !live.has(l.runnerRowId))
        .sort((a, b) => a.subnetId.localeCompare(b.subnetId))
        .map((l) => ({ ...l, reason: "holder-not-live" as const })),
    ),
    giveUp: take(giveUp),
    relaunchCount:
      queued.length -
      giveUp.length +
      terminate.filter((t) => t.reason === "idle-past-timeout" || t.reason === "never-asked")
        .length,
  };
}

/**
 * VMs to end, each deregistered first when its runner is known: an idle online runner can
 * be handed a job at any moment, and GitHub's DELETE answer is the race-free word on it
 * (FIELD-NOTES.md, "DELETE of a runner answers 422 while it is busy"). A runner missing
 * from the listing is asked about too, by the ledger's ID: the listing is paged by offset,
 * so registrations GitHub removes between two pages move the rest up unseen, and a runner
 * it skipped may have just been handed a job.
 */
function planTerminations(s: ReconcileSnapshot, match: VmMatch): TerminateAction[] {
  const pools = new Map(s.pools.map((p) => [p.name, p]));
  const registrations = new Map(s.registrations.map((r) => [r.name, r]));
  const runnerSubnets = new Set(s.runnerSubnets);
  const graceMs = s.launchGraceSeconds * 1000;
  return s.vms
    .filter((vm) => isLive(vm.status))
    .sort(
      (a, b) =>
        a.launchedAt.getTime() - b.launchedAt.getTime() || a.instanceId.localeCompare(b.instanceId),
    )
    .flatMap((vm) => {
      const row = match.rowOfVm.get(vm.instanceId);
      // Without a runner row, only our subnets say the VM is ours: the tag alone is anyone's.
      if (row === undefined && (vm.subnetId === null || !runnerSubnets.has(vm.subnetId))) return [];
      const ageMs = s.now.getTime() - vm.launchedAt.getTime();
      const name = row?.runnerName ?? vm.runnerName;
      const registration = name === null ? undefined : registrations.get(name);
      const pool = pools.get(row?.pool ?? vm.pool ?? "");
      const reason = terminateReason(row, pool, ageMs, graceMs, registration);
      if (reason === undefined) return [];
      return [
        {
          instanceId: vm.instanceId,
          runnerRowId: row?.rowId ?? null,
          reason,
          ageSeconds: Math.floor(ageMs / 1000),
          // Past the max lifetime, the hard cap, a VM ends whatever GitHub would answer.
          deregisterFirst: isPastLifetime(pool, ageMs)
            ? null
            : (registration?.id ?? row?.githubRunnerId ?? null),
        },
      ];
    });
}

/**
 * Why a live VM of this age should end, or undefined to leave it. A runner GitHub lists as
 * busy is running a job (one GitHub gave it, maybe not the one the ledger knows): its VM is
 * left, unless past the pool's max lifetime, the hard cap that ends a hung job too (DESIGN.md,
 * "Reconciler"); deregistering it would answer 422, so that VM is ended without asking.
 */
export function terminateReason(
  row: LedgerRunner | undefined,
  pool: PoolLimits | undefined,
  ageMs: number,
  graceMs: number,
  registration?: ObservedRegistration,
): TerminateReason | undefined {
  if (registration?.busy === true)
    return isPastLifetime(pool, ageMs) ? "past-max-lifetime" : undefined;
  if (row === undefined) return ageMs > graceMs ? "orphan" : undefined;
  const pastLifetime = pool !== undefined && ageMs > pool.maxLifetime * 1000;
  const serving = row.tookJob && !row.jobEnded && row.jobId !== null;
  if (serving && !pastLifetime) return undefined;
  if (row.jobEnded || row.jobId === null) return "job-ended";
  if (pastLifetime) return "past-max-lifetime";
  // An unknown pool (removed from the config) has no limits to judge by; job-ended still applies.
  if (pool === undefined || row.tookJob) return undefined;
  // A VM that never asked for its assignment did not boot (or cannot reach the controller):
  // known dead at the pool's boot timeout rather than its idle timeout plus the grace.
  if (!row.asked && row.githubRunnerId === null && ageMs > pool.bootTimeout * 1000)
    return "never-asked";
  return ageMs > pool.idleTimeout * 1000 + graceMs ? "idle-past-timeout" : undefined;
}

function isPastLifetime(pool: PoolLimits | undefined, ageMs: number): boolean {
  return pool !== undefined && ageMs > pool.maxLifetime * 1000;
}

function planEndedRows(
  s: ReconcileSnapshot,
  match: VmMatch,
): { recordTerminated: RecordTerminatedAction[]; abandonLaunch: AbandonLaunchAction[] } {
  const recordTerminated: RecordTerminatedAction[] = [];
  const abandonLaunch: AbandonLaunchAction[] = [];
  const rows = [...s.runners].sort((a, b) => a.rowId - b.rowId);
  for (const row of rows) {
    const vm = match.vmOfRow.get(row.rowId);
    if (vm !== undefined) {
      if (vm.status !== "terminated") continue;
      recordTerminated.push({
        runnerRowId: row.rowId,
        instanceId: vm.instanceId,
        reason: isSpotInterruption(vm.stateReason) ? "spot-interrupted" : "vm-terminated",
        cloudReason: vm.stateReason,
      });
    } else if (pastGrace(s, row)) {
      // The cloud may not list a VM it just started: only past the grace is "gone" gone.
      if (row.instanceId !== null) {
        recordTerminated.push({
          runnerRowId: row.rowId,
          instanceId: row.instanceId,
          reason: "vm-gone",
          cloudReason: null,
        });
      } else {
        abandonLaunch.push({
          runnerRowId: row.rowId,
          jobId: row.jobId,
          reason: "no-vm-after-grace",
        });
      }
    }
  }
  return { recordTerminated, abandonLaunch };
}

function pastGrace(s: ReconcileSnapshot, row: LedgerRunner): boolean {
  return s.now.getTime() - launchedSince(row).getTime() > s.launchGraceSeconds * 1000;
}

/**
 * Offline, idle registrations of ours whose VM is gone or never existed. A VM still
 * shutting down counts as there, and a launch in flight (row inside the grace, no VM listed)
 * keeps its registration: the runner registers before its VM boots.
 * GitHub refuses to delete a busy runner (422):
 * https://docs.github.com/en/rest/actions/self-hosted-runners#delete-a-self-hosted-runner-from-an-organization
 */
function planDeletions(s: ReconcileSnapshot, match: VmMatch): DeleteRunnerAction[] {
  const rowByName = new Map(s.runners.map((r) => [r.runnerName, r]));
  const vmsByName = new Map<string, ObservedVm[]>();
  for (const vm of s.vms) {
    if (vm.runnerName !== null)
      vmsByName.set(vm.runnerName, [...(vmsByName.get(vm.runnerName) ?? []), vm]);
  }
  return s.registrations
    .filter((reg) => reg.status === "offline" && !reg.busy)
    .filter((reg) => parseRunnerName(s.fleet, reg.name) !== undefined)
    .sort((a, b) => a.id - b.id)
    .flatMap((reg) => {
      const row = rowByName.get(reg.name);
      const rowVm = row && match.vmOfRow.get(row.rowId);
      const seen = [...(vmsByName.get(reg.name) ?? []), ...(rowVm ? [rowVm] : [])];
      if (seen.some((vm) => vm.status !== "terminated")) return [];
      if (seen.length === 0 && row !== undefined && !pastGrace(s, row)) return [];
      const existed = seen.length > 0 || (row?.instanceId ?? null) !== null;
      const reason = existed ? ("vm-gone" as const) : ("vm-never-existed" as const);
      return [{ runnerId: reg.id, runnerName: reg.name, reason }];
    });
}
