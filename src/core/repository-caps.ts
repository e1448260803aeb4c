/**
 * How many live runners one repository may have in a pool (`maxRunnersPerRepository`): the
 * pool's own value, else the fleet's; absent both, no cap.
 */
export interface RepositoryCaps {
  /** Pools' own maxRunnersPerRepository. */
  readonly byPool: ReadonlyMap<string, number>;
  /** limits.maxRunnersPerRepository, for pools without their own. */
  readonly fleet?: number;
}

/** The cap of one repository's runners in `pool`; undefined when there is none. */
export function repositoryCapOf(
  caps: RepositoryCaps | undefined,
  pool: string,
): number | undefined {
  return caps?.byPool.get(pool) ?? caps?.fleet;
}
