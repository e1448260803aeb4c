import type { Job, JobAction, JobEvent } from "./job.js";

// `waiting` and `queued` share a rank: a job may alternate between them (an environment
// protection rule) until a runner takes it. Nothing ever moves a job back down.
const rank: Record<JobAction, number> = { waiting: 0, queued: 0, in_progress: 1, completed: 2 };

export interface JobChange {
  readonly job: Job;
  /** False when the event told the ledger nothing new (a duplicate or a late arrival). */
  readonly changed: boolean;
}

/**
 * The next row of a job given one event. Events may arrive in any order and any number of
 * times: the state only moves forward, and every other field keeps the first value seen
 * (GitHub sends the same values in every event of one job), so all orders converge, except
 * that between `waiting` and `queued` the later arrival wins.
 */
export function applyEvent(
  current: Job | undefined,
  event: JobEvent,
  pool: string | null,
): JobChange {
  if (current === undefined) return { job: fromEvent(event, pool), changed: true };

  const forward = rank[event.action] >= rank[current.state];
  const next: Job = {
    ...current,
    pool: current.pool ?? pool,
    workflowName: current.workflowName ?? event.workflowName,
    headBranch: current.headBranch ?? event.headBranch,
    installationId: current.installationId ?? event.installationId,
    queuedAt: current.queuedAt ?? event.createdAt,
    state: forward ? event.action : current.state,
    startedAt: current.startedAt ?? startedAt(event),
    runnerId: current.runnerId ?? event.runnerId,
    runnerName: current.runnerName ?? event.runnerName,
    conclusion: current.conclusion ?? (event.action === "completed" ? event.conclusion : null),
    completedAt: current.completedAt ?? (event.action === "completed" ? event.completedAt : null),
  };
  return { job: next, changed: !sameJob(current, next) };
}

function fromEvent(event: JobEvent, pool: string | null): Job {
  const completed = event.action === "completed";
  return {
    id: event.jobId,
    runId: event.runId,
    runAttempt: event.runAttempt,
    installationId: event.installationId,
    org: event.org,
    repository: event.repository,
    workflowName: event.workflowName,
    jobName: event.jobName,
    headBranch: event.headBranch,
    headSha: event.headSha,
    labels: [...event.labels],
    pool,
    state: event.action,
    conclusion: completed ? event.conclusion : null,
    runnerId: event.runnerId,
    runnerName: event.runnerName,
    queuedAt: event.createdAt,
    startedAt: startedAt(event),
    completedAt: completed ? event.completedAt : null,
  };
}

// A queued payload carries a `started_at` too (equal to its creation time); only a runner
// taking the job, or its end, says when it really started.
function startedAt(event: JobEvent): Date | null {
  return event.action === "in_progress" || event.action === "completed" ? event.startedAt : null;
}

function sameJob(a: Job, b: Job): boolean {
  return (Object.keys(a) as (keyof Job)[]).every((key) => {
    const x = a[key];
    const y = b[key];
    if (x instanceof Date && y instanceof Date) return x.getTime() === y.getTime();
    return x === y;
  });
}
