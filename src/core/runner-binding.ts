/** What the ledger knows of a runner it launched: its name and the job it serves now. */
export interface RunnerRecord {
  readonly runnerName: string;
  readonly jobId: number | null;
}

/**
 * What an `in_progress` event means for our runners. GitHub gives a job to any idle runner
 * whose labels match, so a runner launched for job A may be taken by job B
 * (https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/using-self-hosted-runners-in-a-workflow#routing-precedence-for-self-hosted-runners).
 * - `own`: the job took the runner launched for it.
 * - `stolen`: it took another job's runner; rebind the runner to this job, and `orphanedJob`
 *   (if any) needs a runner again, while this job's own runner, if any, is now free for it.
 * - `foreign`: not a runner of ours (a runner outside this fleet took the job).
 */
export type Binding =
  | { readonly kind: "own" }
  | { readonly kind: "stolen"; readonly orphanedJob: number | null }
  | { readonly kind: "foreign" };

export function bindRunner(
  jobId: number,
  takenBy: string,
  runners: readonly RunnerRecord[],
): Binding {
  const runner = runners.find((r) => r.runnerName === takenBy);
  if (runner === undefined) return { kind: "foreign" };
  if (runner.jobId === jobId) return { kind: "own" };
  return { kind: "stolen", orphanedJob: runner.jobId };
}

/**
 * Whether a job's spare runner, registered with that job's labels, can serve the job whose
 * runner it took: GitHub routes a job to a runner that has all of the job's labels.
 */
export function canServe(
  runner: { readonly pool: string; readonly labels: readonly string[] },
  job: { readonly pool: string | null; readonly labels: readonly string[] },
): boolean {
  if (runner.pool !== job.pool) return false;
  const offered = new Set(runner.labels.map((l) => l.toLowerCase()));
  return job.labels.every((l) => offered.has(l.toLowerCase()));
}
