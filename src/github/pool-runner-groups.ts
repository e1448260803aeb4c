import type { DoctorCheck } from "../cloud/ec2/doctor-check.js";
import type { FleetConfig } from "../config/fleet-schema.js";
import {
  hasOwnRunnerGroup,
  type RunnerGroupPool,
  runnerGroupDrift,
  runnerGroupSpec,
} from "../core/runner-group.js";
import type { Logger } from "../log/logger.js";
import type { GitHub } from "./github.js";

/** Runner groups are looked at again this long after they were last brought in step. */
export const RUNNER_GROUP_CHECK_MS = 10 * 60_000;
/** The group every org has; what a pool without `runnerGroupId` registers in. */
const DEFAULT_GROUP_ID = 1;

export interface PoolRunnerGroupsOptions {
  readonly github: Pick<GitHub, "findRunnerGroup" | "createRunnerGroup" | "updateRunnerGroup">;
  readonly fleet: string;
  readonly pools: readonly RunnerGroupPool[];
  readonly logger: Logger;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

/**
 * The runner group each pool's runners are registered in. A pool with a repository
 * allow-list gets one of its own per organisation, which mayfly creates and keeps in step
 * (`visibility: selected`, exactly the pool's repositories of that org, public repositories
 * only if the pool allows them), so GitHub itself refuses the runner to any other
 * repository's job. It is looked at when a runner is registered, at most every
 * RUNNER_GROUP_CHECK_MS per pool and org; a change made on GitHub is set back then.
 */
export class PoolRunnerGroups {
  readonly #known = new Map<string, { readonly id: number; readonly at: number }>();
  readonly #keeping = new Map<string, Promise<number>>();
  readonly #now: () => number;

  constructor(private readonly o: PoolRunnerGroupsOptions) {
    this.#now = o.now ?? Date.now;
  }

  /** The group ID to register a runner of `poolName` with, for an org's installation. */
  async groupFor(installationId: number, org: string, poolName: string): Promise<number> {
    const pool = this.o.pools.find((p) => p.name === poolName);
    if (pool === undefined) throw new Error(`pool ${poolName} is not in the fleet file`);
    if (!hasOwnRunnerGroup(pool)) return pool.runnerGroupId ?? DEFAULT_GROUP_ID;
    const key = `${installationId}/${org.toLowerCase()}/${pool.name}`;
    const known = this.#known.get(key);
    if (known !== undefined && this.#now() - known.at < RUNNER_GROUP_CHECK_MS) return known.id;
    let keeping = this.#keeping.get(key);
    if (keeping === undefined) {
      keeping = this.#keep(installationId, org, pool).then(
        (id) => {
          this.#known.set(key, { id, at: this.#now() });
          return id;
        },
        (error: unknown) => {
          // A group known before keeps serving while GitHub cannot be asked.
          if (known !== undefined) return known.id;
          throw error;
        },
      );
      const settled = keeping.finally(() => this.#keeping.delete(key));
      settled.catch(() => {});
      this.#keeping.set(key, keeping);
    }
    return keeping;
  }

  async #keep(installationId: number, org: string, pool: RunnerGroupPool): Promise<number> {
    const spec = runnerGroupSpec(this.o.fleet, pool, org);
    const log = this.o.logger.child({ pool: pool.name, org, runnerGroup: spec.name });
    try {
      const group = await this.o.github.findRunnerGroup(installationId, org, spec.name);
      if (group === undefined) {
        const id = await this.o.github.createRunnerGroup(installationId, org, spec);
        log.info(
          { runnerGroupId: id, repositories: spec.repositories },
          "runner group created for the pool",
        );
        return id;
      }
      const drift = runnerGroupDrift(spec, group);
      if (drift.length > 0) {
        await this.o.github.updateRunnerGroup(installationId, org, group.id, spec);
        log.warn(
          { runnerGroupId: group.id, drift },
          "the pool's runner group had changed on GitHub: set back to the pool's repositories",
        );
      }
      return group.id;
    } catch (error) {
      log.error(
        { err: error },
        "cannot keep the pool's runner group, so its runners are not registered: the App needs write access to the organisation's self-hosted runners (which include runner groups); or give the pool registration: repo",
      );
      throw error;
    }
  }
}

/**
 * `mayfly doctor`'s look at each pool's own runner group, per organisation of its
 * repositories: the App installed there, and the group (once made) admitting exactly the
 * pool's repositories, `visibility: selected`, public repositories only if the pool allows.
 */
export async function checkRunnerGroups(
  github: Pick<GitHub, "installationIdOf" | "findRunnerGroup">,
  fleet: Pick<FleetConfig, "fleet" | "pools">,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const pool of fleet.pools.filter(hasOwnRunnerGroup)) {
    // Each organisation once, as the pool first spells it.
    const orgs = new Map<string, string>();
    for (const repository of pool.repositories ?? []) {
      const org = repository.split("/")[0] ?? "";
      if (!orgs.has(org.toLowerCase())) orgs.set(org.toLowerCase(), org);
    }
    for (const org of orgs.values()) {
      const spec = runnerGroupSpec(fleet.fleet, pool, org);
      const check = `runner group ${spec.name} in ${org}`;
      try {
        const installationId = await github.installationIdOf(org);
        if (installationId === undefined) {
          checks.push({ status: "missing", check, detail: `the App is not installed on ${org}` });
          continue;
        }
        const group = await github.findRunnerGroup(installationId, org, spec.name);
        if (group === undefined) {
          checks.push({
            status: "ok",
            check,
            detail: "not made yet: mayfly makes it when the pool's first runner registers",
          });
          continue;
        }
        const drift = runnerGroupDrift(spec, group);
        checks.push(
          drift.length === 0
            ? { status: "ok", check, detail: `admits ${spec.repositories.join(", ")}` }
            : {
                status: "missing",
                check,
                detail: `${drift.join("; ")} (mayfly sets it back at the pool's next registration)`,
              },
        );
      } catch (error) {
        checks.push({
          status: "warn",
          check,
          detail: `could not tell: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
  }
  return checks;
}
