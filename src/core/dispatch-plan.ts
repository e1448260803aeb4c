/** A queued job that has no live runner: work for the dispatcher. */
export interface PendingJob {
  readonly jobId: number;
  readonly pool: string;
  readonly queuedAt: Date;
  /** Earliest time a retry may start, after a failed launch; null for a first launch. */
  readonly notBefore: Date | null;
  /** VMs started for the job so far. */
  readonly vmsLaunched: number;
}

export interface DispatchLimits {
  /** Live VMs per pool now. */
  readonly liveByPool: ReadonlyMap<string, number>;
  /** Each pool's maxRunners. */
  readonly maxByPool: ReadonlyMap<string, number>;
  /** The fleet's limits.maxRunners. */
  readonly fleetMax: number;
  /** Launches the GitHub and EC2 rate budgets allow in this round. */
  readonly budget: number;
  /** A job that had this many VMs gets no more (the reconciler gives it up). */
  readonly maxLaunchesPerJob: number;
}

/**
 * Which pending jobs to launch now: oldest first, skipping jobs still backing off or that
 * had their VMs, never more than a pool's or the fleet's free slots, nor the round's rate
 * budget. A full pool does not hold back jobs of other pools.
 */
export function planDispatch(
  pending: readonly PendingJob[],
  limits: DispatchLimits,
  now: Date,
): PendingJob[] {
  const live = new Map(limits.liveByPool);
  let fleetLive = [...live.values()].reduce((a, b) => a + b, 0);
  let budget = limits.budget;
  const chosen: PendingJob[] = [];
  const ordered = [...pending].sort(
    (a, b) => a.queuedAt.getTime() - b.queuedAt.getTime() || a.jobId - b.jobId,
  );
  for (const job of ordered) {
    if (budget <= 0 || fleetLive >= limits.fleetMax) break;
    if (job.notBefore !== null && job.notBefore > now) continue;
    if (job.vmsLaunched >= limits.maxLaunchesPerJob) continue;
    const poolLive = live.get(job.pool) ?? 0;
    if (poolLive >= (limits.maxByPool.get(job.pool) ?? 0)) continue;
    chosen.push(job);
    live.set(job.pool, poolLive + 1);
    fleetLive++;
    budget--;
  }
  return chosen;
}

/**
 * When a failed launch may be tried again: exponential from `baseSeconds`, capped, with
 * jitter in [0.5, 1) drawn by the caller so this stays deterministic.
 */
export function retryAt(
  now: Date,
  failures: number,
  jitter: number,
  baseSeconds = 5,
  capSeconds = 300,
): Date {
  const seconds = Math.min(capSeconds, baseSeconds * 2 ** Math.max(0, failures - 1));
  const factor = 0.5 + Math.min(Math.max(jitter, 0), 1) / 2;
  return new Date(now.getTime() + seconds * factor * 1000);
}

/**
 * What to do with a job about to get another VM after one ran for it, given what GitHub
 * says of the job now: our ledger may just not have heard yet that a runner took it (its
 * `in_progress` and `completed` webhooks are late, or lost), and a second VM for a job that
 * started is pure cost. `started`: a runner has it; `close`: it is over, or GitHub no longer
 * knows it; `launch`: it still waits for a runner.
 * https://docs.github.com/en/rest/actions/workflow-jobs#get-a-job-for-a-workflow-run
 */
export function relaunchVerdict(
  job: { readonly status: string } | undefined,
): "launch" | "started" | "close" {
  if (job === undefined || job.status === "completed") return "close";
  if (job.status === "in_progress") return "started";
  return "launch";
}
