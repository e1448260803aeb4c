import { type FleetConfig, usagePricesOf } from "../config/fleet-schema.js";
import { afterDeregistration } from "../core/reap-step.js";
import { planReconcile, type ReconcilePlan, type TerminateAction } from "../core/reconcile-plan.js";
import type { ObservedRegistration } from "../core/reconcile-snapshot.js";
import { parseRunnerName } from "../core/runner-name.js";
import type { FleetDeps } from "./fleet-deps.js";
import {
  type RecoveryCounts,
  type RecoveryProgress,
  recoverDeliveries,
} from "./recover-deliveries.js";
import { registeredRepository } from "./registered-repository.js";
import { type Schedule, type ScheduledTask, scheduleTask } from "./scheduled-task.js";

export interface ReconcilerOptions {
  /** Seconds a launch may be in flight before a missing VM or row counts as lost. */
  readonly launchGraceSeconds: number;
  /** A queued job is given up after this many failed launches. */
  readonly maxLaunchFailures: number;
  /** A queued job is given up once this many VMs were started for it. */
  readonly maxLaunchesPerJob: number;
  /** Most actions of each kind in one pass; the rest wait for the next. */
  readonly maxActionsPerKind: number;
  /** GitHub job lookups per pass, for queued jobs older than `jobCheckAfterSeconds`. */
  readonly jobChecksPerPass: number;
  readonly jobCheckAfterSeconds: number;
  /** Delivery payloads fetched per pass from the App's delivery log. */
  readonly deliveryFetchesPerPass: number;
}

// The grace and the launch cap are the fleet file's `limits` (reconcilerOptionsOf); these are
// its defaults.
export const DEFAULT_RECONCILER: ReconcilerOptions = {
  launchGraceSeconds: 120,
  maxLaunchFailures: 8,
  maxLaunchesPerJob: 3,
  maxActionsPerKind: 200,
  jobChecksPerPass: 20,
  jobCheckAfterSeconds: 600,
  deliveryFetchesPerPass: 100,
};

/**
 * The parts of a pass, each failing alone (DESIGN.md, "Reconciler"): `plan` reads the cloud,
 * GitHub and the ledger and decides; `vm-repairs` and `registrations` carry out its VM and
 * registration actions; `close-jobs` asks GitHub about old queued jobs.
 */
export type ReconcilePhase = "recovery" | "plan" | "vm-repairs" | "registrations" | "close-jobs";

/** The reconciler's options with the fleet file's `limits.launchGrace` and `maxLaunchesPerJob`. */
export function reconcilerOptionsOf(fleet: FleetConfig): ReconcilerOptions {
  return {
    ...DEFAULT_RECONCILER,
    launchGraceSeconds: fleet.limits.launchGrace,
    maxLaunchesPerJob: fleet.limits.maxLaunchesPerJob,
  };
}

/** What one pass saw, decided and (unless a dry run) did. */
export interface ReconcileReport {
  /** Null when the plan phase failed: nothing was repaired from it. */
  readonly plan: ReconcilePlan | null;
  readonly recovered: RecoveryCounts | null;
  readonly jobsClosed: number;
  /** The phases that failed this pass, in the order they ran; the others ran in full. */
  readonly failed: readonly ReconcilePhase[];
  readonly dryRun: boolean;
}

/** State a reconciler keeps between its passes. */
export interface ReconcilerState {
  readonly recovery: RecoveryProgress;
  /** When this process started: deliveries after it do not hide a gap before it. */
  readonly startedAt: Date;
  /** The last queued job asked about, so that each pass asks about the next ones. */
  jobCheckCursor: number;
}

export function newReconcilerState(now: Date): ReconcilerState {
  return {
    recovery: { resumeFrom: undefined, settled: new Map() },
    startedAt: now,
    jobCheckCursor: 0,
  };
}

const INSTALLATIONS_SEEN_SECONDS = 30 * 86400;

/**
 * One reconcile pass: recover missed deliveries, then compare the cloud, GitHub and the
 * ledger and repair what differs (core/reconcile-plan.ts decides). Each phase fails alone:
 * its error is logged with its name and counted, and the phases after it still run, so one
 * bad delivery or one failing API cannot stop every other repair.
 */
export async function reconcileOnce(
  deps: FleetDeps,
  options: ReconcilerOptions,
  state: ReconcilerState,
  dryRun = false,
): Promise<ReconcileReport> {
  const failed: ReconcilePhase[] = [];
  const phase = async <T>(name: ReconcilePhase, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      failed.push(name);
      deps.logger.error({ err: error, loop: "reconciler", phase: name }, "reconcile phase failed");
      deps.metrics?.reconcileFailed(name);
      return undefined;
    }
  };
  // A dry run changes nothing, so it recovers nothing; its plan is all it has to show.
  if (dryRun) {
    const { plan } = await observeAndPlan(deps, options);
    return { plan, recovered: null, jobsClosed: 0, failed, dryRun };
  }
  const recovered = await phase("recovery", () =>
    recoverDeliveries(
      {
        ...deps,
        pools: deps.fleet.pools,
        bindingLabelPrefix: deps.fleet.bindingLabelPrefix,
        installations: deps.fleet.installations,
      },
      {
        maxFetches: options.deliveryFetchesPerPass,
        recordedBefore: state.startedAt,
        progress: state.recovery,
      },
    ),
  );
  const planned = await phase("plan", () => observeAndPlan(deps, options));
  if (planned !== undefined) {
    await phase("vm-repairs", () => carryOut(planned.plan, deps, planned.whereRegistered));
    await phase("registrations", () =>
      deleteRegistrations(planned.plan, deps, planned.whereRegistered),
    );
  }
  const jobsClosed = await phase("close-jobs", () => closeFinishedJobs(deps, options, state));
  return {
    plan: planned?.plan ?? null,
    recovered: recovered ?? null,
    jobsClosed: jobsClosed ?? 0,
    failed,
    dryRun,
  };
}

/** Where a runner is registered: its installation, organisation and, at repository level, repository. */
interface RegisteredAt {
  readonly installationId: number;
  readonly org: string;
  readonly repository?: string;
}
type WhereRegistered = ReadonlyMap<number, RegisteredAt>;

/**
 * Reads the cloud and GitHub, then the ledger, and decides. The cloud and GitHub are read
 * before the ledger, so a VM or registration seen always has its intent row.
 */
async function observeAndPlan(
  deps: FleetDeps,
  options: ReconcilerOptions,
): Promise<{ plan: ReconcilePlan; whereRegistered: WhereRegistered }> {
  const seenSince = new Date(deps.now().getTime() - INSTALLATIONS_SEEN_SECONDS * 1000);
  const { installations } = await deps.ledger.reconcileView(seenSince);
  const vms = [];
  for await (const vm of deps.cloud.listOurs()) vms.push(vm);
  const registrations: ObservedRegistration[] = [];
  const whereRegistered = new Map<number, RegisteredAt>();
  for (const at of installations) {
    for await (const r of deps.github.listRunners(at.installationId, at.org)) {
      if (parseRunnerName(deps.fleet.fleet, r.name) === undefined) continue;
      registrations.push(r);
      whereRegistered.set(r.id, at);
    }
  }
  const now = deps.now();
  const view = await deps.ledger.reconcileView(seenSince);
  // A runner the listing missed (or a repository-level one, which it never shows) is asked
  // about where the ledger registered it.
  for (const [id, at] of view.registeredIn) {
    if (whereRegistered.has(id)) continue;
    const repository = registeredRepository(deps.fleet.pools, at.pool, at.repository);
    whereRegistered.set(id, {
      installationId: at.installationId,
      org: at.org,
      ...(repository === undefined ? {} : { repository }),
    });
  }
  const plan = planReconcile(
    {
      now,
      fleet: deps.fleet.fleet,
      pools: deps.fleet.pools,
      runners: view.runners,
      queuedJobs: view.queuedJobs,
      vms,
      registrations,
      leases: view.leases,
      runnerSubnets: view.runnerSubnets,
      launchGraceSeconds: options.launchGraceSeconds,
    },
    {
      maxLaunchFailures: options.maxLaunchFailures,
      maxLaunchesPerJob: options.maxLaunchesPerJob,
      maxActionsPerKind: options.maxActionsPerKind,
    },
  );
  return { plan, whereRegistered };
}

/** The plan's VM repairs: terminations, ended VMs, abandoned launches, leases, give-ups. */
async function carryOut(
  plan: ReconcilePlan,
  deps: FleetDeps,
  whereRegistered: WhereRegistered,
): Promise<void> {
  const now = deps.now();
  const ending = await deregisterFirst(plan.terminate, deps, whereRegistered);
  if (ending.length > 0) {
    await deps.cloud.terminate(ending.map((t) => t.instanceId));
    await deps.ledger.markTerminating(
      ending.flatMap((t) => (t.runnerRowId === null ? [] : [t.runnerRowId])),
      now,
    );
  }
  if (plan.recordTerminated.length > 0) {
    await deps.ledger.recordTerminated(
      plan.recordTerminated.map((r) => ({
        instanceId: r.instanceId,
        terminatedAt: now,
        reason: r.cloudReason ?? r.reason,
        runnerRowId: r.runnerRowId,
      })),
      usagePricesOf(deps.fleet),
    );
  }
  // A launch that never produced a VM is tried again at once: it is already late.
  for (const a of plan.abandonLaunch)
    await deps.ledger.recordLaunchFailure(a.runnerRowId, `reconciler: ${a.reason}`, now, now);
  for (const r of plan.releaseSubnets) await deps.ledger.releaseSubnet(r.runnerRowId);
  for (const g of plan.giveUp) {
    const words =
      g.reason === "too-many-launches"
        ? `gave up after ${g.vmsLaunched} VMs that never ran the job`
        : `gave up after ${g.launchFailures} failed launches`;
    await deps.ledger.giveUpJob(g.jobId, g.reason, words, now);
    deps.metrics?.gaveUp(g.pool, g.reason);
  }
}

/** The plan's registration cleanup: offline registrations of ours are deleted. */
async function deleteRegistrations(
  plan: ReconcilePlan,
  deps: FleetDeps,
  whereRegistered: WhereRegistered,
): Promise<void> {
  for (const d of plan.deleteRunners) {
    const at = whereRegistered.get(d.runnerId);
    if (at !== undefined)
      await deps.github.deleteRunner(at.installationId, at.org, d.runnerId, at.repository);
  }
}

/**
 * The VMs to end now: those with no registration to delete, and those whose registration
 * GitHub deleted or no longer had. A busy runner (GitHub gave it a job since the listing)
 * keeps its VM; the next pass reads the listing again instead of asking again now.
 */
async function deregisterFirst(
  terminate: readonly TerminateAction[],
  deps: FleetDeps,
  whereRegistered: WhereRegistered,
): Promise<TerminateAction[]> {
  const ending: TerminateAction[] = [];
  for (const t of terminate) {
    if (t.deregisterFirst === null) {
      ending.push(t);
      continue;
    }
    // Every runner asked about has its place (the listing's or the ledger's); one without is
    // left, never ended unasked.
    const at = whereRegistered.get(t.deregisterFirst);
    if (at === undefined) continue;
    const log = { runnerId: t.deregisterFirst, instanceId: t.instanceId, reason: t.reason };
    try {
      const outcome = await deps.github.deleteRunner(
        at.installationId,
        at.org,
        t.deregisterFirst,
        at.repository,
      );
      if (afterDeregistration(outcome) === "terminate") ending.push(t);
      else deps.logger.info(log, "runner is running a job: its VM is left running");
    } catch (error) {
      deps.logger.warn(
        { ...log, err: error },
        "could not deregister a runner: its VM is left running",
      );
    }
  }
  return ending;
}

/**
 * Queued jobs GitHub no longer has queued (their `completed` webhook was lost for good)
 * are closed, so the reaper ends their VMs and the dispatcher stops launching for them.
 */
async function closeFinishedJobs(
  deps: FleetDeps,
  options: ReconcilerOptions,
  state: ReconcilerState,
): Promise<number> {
  const before = new Date(deps.now().getTime() - options.jobCheckAfterSeconds * 1000);
  const jobs = await deps.ledger.queuedJobsToCheck(
    before,
    state.jobCheckCursor,
    options.jobChecksPerPass,
  );
  // Past the last job, start again from the first on the next pass.
  state.jobCheckCursor = jobs.length < options.jobChecksPerPass ? 0 : (jobs.at(-1)?.jobId ?? 0);
  let closed = 0;
  for (const job of jobs) {
    const info = await deps.github.getJob(job.installationId, job.repository, job.jobId);
    if (info !== undefined && info.status !== "completed") continue;
    if (await deps.ledger.closeJob(job.jobId, info?.conclusion ?? null, deps.now())) closed++;
  }
  return closed;
}

/**
 * The reconciler on a cron schedule, one replica at a time (a PostgreSQL advisory lock;
 * the embedded database's single process leads by itself). It runs once at start, to catch
 * up on what happened while the controller was down. `onRelaunch` wakes the dispatcher.
 */
export function startReconciler(
  deps: FleetDeps,
  options: ReconcilerOptions & {
    readonly schedule: string | Schedule;
    readonly onRelaunch?: () => void;
  },
): ScheduledTask {
  const state = newReconcilerState(deps.now());
  const pass = async (): Promise<Record<string, unknown>> => {
    const led = await deps.ledger.asLeader("reconcile", () => reconcileOnce(deps, options, state));
    if (!led.leader) return { leader: false };
    const { plan, recovered, jobsClosed, failed } = led.result;
    if ((plan?.relaunchCount ?? 0) > 0 || (recovered?.recorded ?? 0) > 0) options.onRelaunch?.();
    const repairs = {
      ...(plan === null ? {} : countsOf(plan)),
      recovered: recovered?.recorded ?? 0,
      jobsClosed,
    };
    for (const [kind, count] of Object.entries(repairs)) deps.metrics?.repaired(kind, count);
    return failed.length === 0 ? repairs : { ...repairs, failedPhases: failed };
  };
  return scheduleTask("reconciler", options.schedule, pass, deps.logger, { runAtStart: true });
}

/** How many actions of each kind a plan holds, for logs and the dry run. */
export function countsOf(plan: ReconcilePlan): Record<string, number> {
  return {
    terminate: plan.terminate.length,
    recordTerminated: plan.recordTerminated.length,
    abandonLaunch: plan.abandonLaunch.length,
    deleteRunners: plan.deleteRunners.length,
    releaseSubnets: plan.releaseSubnets.length,
    giveUp: plan.giveUp.length,
    relaunch: plan.relaunchCount,
  };
}
