import type { SimJob, SimRunner } from "../github/sim-state.js";

// Labels GitHub gives every self-hosted Linux x64 runner besides its custom ones:
// https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/using-labels-with-self-hosted-runners
const DEFAULT_LABELS = ["self-hosted", "linux", "x64"];

/** Whether GitHub would route this job to this runner: same owner, every label matched. */
export function runnerTakesJob(runner: SimRunner, job: SimJob): boolean {
  const owner = job.repository.split("/")[0]?.toLowerCase();
  const scope =
    runner.repository === undefined
      ? runner.org.toLowerCase() === owner
      : runner.repository.toLowerCase() === job.repository.toLowerCase();
  if (!scope) return false;
  const has = new Set([...DEFAULT_LABELS, ...runner.labels.map((l) => l.toLowerCase())]);
  return job.labels.every((l) => has.has(l.toLowerCase()));
}
