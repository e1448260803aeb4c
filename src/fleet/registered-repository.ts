import type { PoolConfig } from "../config/fleet-schema.js";

/**
 * The repository ("owner/name") a runner of this pool is registered in, for GitHub's
 * repository routes; undefined for an organisation-level runner (the pool's default) or a
 * pool no longer in the fleet file.
 */
export function registeredRepository(
  pools: readonly Pick<PoolConfig, "name" | "registration">[],
  pool: string,
  repository: string | null,
): string | undefined {
  const registration = pools.find((p) => p.name === pool)?.registration;
  return registration === "repo" && repository !== null ? repository : undefined;
}
