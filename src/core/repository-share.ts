import { type RepositoryCaps, repositoryCapOf } from "./repository-caps.js";

/** The fleet file's pools, in order, and their per-repository caps. */
export interface RepositoryLimits {
  readonly pools: readonly string[];
  readonly caps: RepositoryCaps;
}

/** One repository's live VMs in a pool and its queued jobs without one, as the ledger counts them. */
export interface RepositoryCount {
  readonly pool: string;
  readonly repository: string;
  /** VMs not terminated that serve a job of the repository. */
  readonly runners: number;
  /** Queued jobs of the repository that have no live VM. */
  readonly awaiting: number;
}

/** A repository's share of a pool: what it holds, what it may hold, and what waits for it. */
export interface RepositoryShare {
  readonly repository: string;
  readonly runners: number;
  /** Its queued jobs that the cap keeps from launching now. */
  readonly held: number;
}

/** A pool's per-repository cap and its repositories' shares, busiest first. */
export interface PoolShare {
  readonly pool: string;
  /** maxRunnersPerRepository as it applies to the pool; null when it has none. */
  readonly limit: number | null;
  readonly repositories: readonly RepositoryShare[];
}

/**
 * Each pool's repositories against its cap: a repository with `limit` VMs or more holds all
 * its queued jobs back, one with fewer launches up to the difference and holds the rest.
 * Jobs held here stay queued, and launch as the repository's VMs end.
 */
export function repositoryShares(
  pools: readonly string[],
  counts: readonly RepositoryCount[],
  caps: RepositoryCaps | undefined,
): PoolShare[] {
  return pools.map((pool) => {
    const limit = repositoryCapOf(caps, pool) ?? null;
    const repositories = counts
      .filter((c) => c.pool === pool)
      .map((c) => ({
        repository: c.repository,
        runners: c.runners,
        held: limit === null ? 0 : Math.max(0, c.awaiting - Math.max(0, limit - c.runners)),
      }))
      .sort((a, b) => b.runners - a.runners || a.repository.localeCompare(b.repository));
    return { pool, limit, repositories };
  });
}

/** Whether a repository is at its cap in a pool, so that its queued jobs wait. */
export function atRepositoryLimit(share: PoolShare | undefined, repository: string): boolean {
  if (share === undefined || share.limit === null) return false;
  const runners = share.repositories.find((r) => r.repository === repository)?.runners ?? 0;
  return runners >= share.limit;
}
