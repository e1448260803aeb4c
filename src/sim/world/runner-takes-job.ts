import type { SimJob, SimRunner, SimRunnerGroup } from "../github/sim-state.js";

// Labels GitHub gives every self-hosted Linux x64 runner besides its custom ones:
// https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/using-labels-with-self-hosted-runners
const DEFAULT_LABELS = ["self-hosted", "linux", "x64"];

/**
 * Whether GitHub would route this job to this runner: same owner, a runner group that lets
 * the job's repository in (an org-level runner), every label matched.
 * https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/managing-access-to-self-hosted-runners-using-groups
 */
export function runnerTakesJob(
  runner: SimRunner,
  job: SimJob,
  group: SimRunnerGroup | undefined,
): boolean {
  const owner = job.repository.split("/")[0]?.toLowerCase();
  const scope =
    runner.repository === undefined
      ? runner.org.toLowerCase() === owner
      : runner.repository.toLowerCase() === job.repository.toLowerCase();
  if (!scope) return false;
  if (runner.repository === undefined) {
    if (group === undefined) return false;
    if (group.visibility === "selected" && !group.repositories.has(job.repository.toLowerCase()))
      return false;
  }
  const has = new Set([...DEFAULT_LABELS, ...runner.labels.map((l) => l.toLowerCase())]);
  return job.labels.every((l) => has.has(l.toLowerCase()));
}
