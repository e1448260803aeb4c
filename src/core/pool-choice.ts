/** What pool choice needs to know of a pool (a subset of the fleet file's pool). */
export interface PoolLabels {
  readonly name: string;
  readonly labels: readonly string[];
  readonly architecture: "x64" | "arm64";
  readonly repositories?: readonly string[] | undefined;
  readonly acceptDefaultLabelsOnly: boolean;
  /** Jobs of public repositories; absent: "deny". */
  readonly publicRepositories?: "deny" | "allow" | undefined;
}

/**
 * GitHub gives every self-hosted runner these labels, JIT runners included
 * (https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/using-labels-with-self-hosted-runners).
 */
function defaultLabels(pool: PoolLabels): string[] {
  return ["self-hosted", "linux", pool.architecture];
}

/**
 * The pool that serves a job, or undefined when the job is not ours. A job matches a pool
 * when every label it asks for (case-insensitive; labels with the binding prefix are
 * ignored) is among the pool's labels or its default labels. A job that asks only for
 * default labels would take any runner, so it matches only pools that opt in. Among
 * several matches: the pool with fewest labels, then the first in the file. A job of a
 * public repository matches only pools that allow them: GitHub advises self-hosted runners
 * for private repositories only, since a fork's pull request runs its code on the runner.
 */
export function choosePool<P extends PoolLabels>(
  jobLabels: readonly string[],
  repository: string,
  pools: readonly P[],
  bindingPrefix: string,
  publicRepository = false,
): P | undefined {
  const prefix = bindingPrefix.toLowerCase();
  const wanted = jobLabels.map((l) => l.toLowerCase()).filter((l) => !l.startsWith(prefix));
  if (wanted.length === 0) return undefined;

  let best: P | undefined;
  for (const pool of pools) {
    if (!allows(pool, repository)) continue;
    if (publicRepository && pool.publicRepositories !== "allow") continue;
    const defaults = defaultLabels(pool);
    const own = new Set(pool.labels.map((l) => l.toLowerCase()));
    const offered = new Set([...own, ...defaults]);
    if (!wanted.every((l) => offered.has(l))) continue;
    const asksOnlyDefaults = wanted.every((l) => defaults.includes(l) && !own.has(l));
    if (asksOnlyDefaults && !pool.acceptDefaultLabelsOnly) continue;
    if (best === undefined || pool.labels.length < best.labels.length) best = pool;
  }
  return best;
}

function allows(pool: PoolLabels, repository: string): boolean {
  if (pool.repositories === undefined) return true;
  const name = repository.toLowerCase();
  return pool.repositories.some((r) => r.toLowerCase() === name);
}
