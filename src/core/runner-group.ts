/** An organisation's runner group as GitHub reports it, with the repositories it admits. */
export interface RunnerGroup {
  readonly id: number;
  readonly name: string;
  readonly visibility: "all" | "selected" | "private";
  readonly allowsPublicRepositories: boolean;
  /** Full names ("owner/name") of the selected repositories; [] unless `selected`. */
  readonly repositories: readonly string[];
}

/** A runner group mayfly keeps: `visibility: selected`, exactly these repositories. */
export interface RunnerGroupSpec {
  readonly name: string;
  /** Full names ("owner/name") in the group's organisation. */
  readonly repositories: readonly string[];
  readonly allowsPublicRepositories: boolean;
}

/** What a pool's runner group depends on, in the fleet file's words. */
export interface RunnerGroupPool {
  readonly name: string;
  readonly registration: "org" | "repo";
  readonly runnerGroupId?: number | undefined;
  readonly repositories?: readonly string[] | undefined;
  readonly publicRepositories: "deny" | "allow";
}

/**
 * Whether GitHub keeps a pool's runners to its repositories through a runner group of the
 * pool's own: an organisation-level pool with a repository allow-list.
 */
export function hasOwnRunnerGroup(pool: RunnerGroupPool): boolean {
  return pool.registration === "org" && pool.repositories !== undefined;
}

/** The group a pool's runners go in, in `org`: that org's repositories of the allow-list. */
export function runnerGroupSpec(
  fleet: string,
  pool: RunnerGroupPool,
  org: string,
): RunnerGroupSpec {
  const owner = org.toLowerCase();
  return {
    name: `mayfly-${fleet}-${pool.name}`,
    repositories: (pool.repositories ?? []).filter((r) => r.split("/")[0]?.toLowerCase() === owner),
    allowsPublicRepositories: pool.publicRepositories === "allow",
  };
}

/** How a group on GitHub differs from what the pool needs; [] when it matches. */
export function runnerGroupDrift(spec: RunnerGroupSpec, group: RunnerGroup): string[] {
  const drift: string[] = [];
  if (group.visibility !== "selected")
    drift.push(`visibility is ${group.visibility}, not selected`);
  if (group.allowsPublicRepositories !== spec.allowsPublicRepositories) {
    drift.push(
      `allows_public_repositories is ${group.allowsPublicRepositories}, not ${spec.allowsPublicRepositories}`,
    );
  }
  const have = new Set(group.repositories.map((r) => r.toLowerCase()));
  const want = new Set(spec.repositories.map((r) => r.toLowerCase()));
  const extra = [...have].filter((r) => !want.has(r)).sort();
  const absent = [...want].filter((r) => !have.has(r)).sort();
  if (extra.length > 0) drift.push(`admits ${extra.join(", ")} beyond the pool's repositories`);
  if (absent.length > 0) drift.push(`does not admit ${absent.join(", ")}`);
  return drift;
}
