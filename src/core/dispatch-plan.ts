import { type RepositoryCaps, repositoryCapOf } from "./repository-caps.js";

/** A queued job that has no live runner: work for the dispatcher. */
export interface PendingJob {
  readonly jobId: number;
  readonly pool: string;
  /** owner/name: a pool's runners are shared out fairly among repositories. */
  readonly repository: string;
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
  /** Each pool's cap on one repository's live VMs; absent: no pool has one. */
  readonly repositoryCaps?: RepositoryCaps;
  /** Live VMs per pool, then per repository of the job they serve. */
  readonly liveByRepository?: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/**
 * Which pending jobs to launch now: oldest first, skipping jobs still backing off or that
 * had their VMs, never more than a pool's or the fleet's free slots, nor the round's rate
 * budget. A full pool does not hold back jobs of other pools.
 *
 * In a pool with a per-repository cap, repositories take turns (the one whose oldest job
 * has waited longest first, each turn its oldest job), and a repository at its cap is passed
 * over: its jobs stay queued for when one of its runners ends, so a matrix of one
 * repository cannot take the whole pool from the others.
 */
export function planDispatch(
  pending: readonly PendingJob[],
  limits: DispatchLimits,
  now: Date,
): PendingJob[] {
  const live = new Map(limits.liveByPool);
  let fleetLive = [...live.values()].reduce((a, b) => a + b, 0);
  let budget = limits.budget;
  const repoLive = new Map<string, number>();
  const chosen: PendingJob[] = [];
  const ready = pending.filter(
    (job) =>
      (job.notBefore === null || job.notBefore <= now) &&
      job.vmsLaunched < limits.maxLaunchesPerJob,
  );
  for (const job of claimOrder(ready, limits.repositoryCaps)) {
    if (budget <= 0 || fleetLive >= limits.fleetMax) break;
    const poolLive = live.get(job.pool) ?? 0;
    if (poolLive >= (limits.maxByPool.get(job.pool) ?? 0)) continue;
    const cap = repositoryCapOf(limits.repositoryCaps, job.pool);
    const key = `${job.pool}\u0000${job.repository}`;
    const ofRepo =
      repoLive.get(key) ?? limits.liveByRepository?.get(job.pool)?.get(job.repository) ?? 0;
    if (cap !== undefined && ofRepo >= cap) continue;
    chosen.push(job);
    live.set(job.pool, poolLive + 1);
    repoLive.set(key, ofRepo + 1);
    fleetLive++;
    budget--;
  }
  return chosen;
}

const byQueue = (a: PendingJob, b: PendingJob) =>
  a.queuedAt.getTime() - b.queuedAt.getTime() || a.jobId - b.jobId;

/**
 * The order jobs are offered in: each pool's jobs in queue order, or round-robin across
 * repositories where the pool has a per-repository cap; the pools merged by the wait of
 * each one's next job, which with no cap anywhere is plain queue order.
 */
function claimOrder(jobs: readonly PendingJob[], caps: RepositoryCaps | undefined): PendingJob[] {
  const byPool = new Map<string, PendingJob[]>();
  for (const job of [...jobs].sort(byQueue)) {
    const list = byPool.get(job.pool) ?? [];
    list.push(job);
    byPool.set(job.pool, list);
  }
  const queues = [...byPool].map(([pool, list]) =>
    repositoryCapOf(caps, pool) === undefined ? list : roundRobin(list),
  );
  const next = queues.map(() => 0);
  const ordered: PendingJob[] = [];
  for (;;) {
    let pick = -1;
    queues.forEach((queue, i) => {
      const head = queue[next[i] as number];
      const best = pick < 0 ? undefined : queues[pick]?.[next[pick] as number];
      if (head !== undefined && (best === undefined || byQueue(head, best) < 0)) pick = i;
    });
    if (pick < 0) return ordered;
    ordered.push(queues[pick]?.[next[pick] as number] as PendingJob);
    next[pick] = (next[pick] as number) + 1;
  }
}

/** Jobs in queue order, dealt out one per repository per turn, oldest repository first. */
function roundRobin(queued: readonly PendingJob[]): PendingJob[] {
  const byRepo = new Map<string, PendingJob[]>();
  for (const job of queued) {
    const list = byRepo.get(job.repository) ?? [];
    list.push(job);
    byRepo.set(job.repository, list);
  }
  const lists = [...byRepo.values()];
  const dealt: PendingJob[] = [];
  for (let turn = 0; dealt.length < queued.length; turn++)
    for (const list of lists) {
      const job = list[turn];
      if (job !== undefined) dealt.push(job);
    }
  return dealt;
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
