/** What the reaper knows of a live VM whose job has ended (or that serves no job). */
export interface ReapCandidate {
  /** Termination was asked for already, so its runner was dealt with then. */
  readonly terminating: boolean;
  /** GitHub's ID of the runner's registration; null when it was never registered. */
  readonly runnerId: number | null;
  /** GitHub named this runner as the one that ran the job it serves. */
  readonly ranJob: boolean;
  /** The ledger knows the installation and organisation the runner is registered in. */
  readonly registeredWhere: boolean;
}

/**
 * `terminate`: end the VM now. `deregister-first`: delete the runner's registration, and end
 * the VM only if GitHub no longer has the runner (see `afterDeregistration`).
 */
export type ReapStep = "terminate" | "deregister-first";

/**
 * How to end a VM (DESIGN.md, "The life of a job", 7). An idle online runner can be handed a
 * job by GitHub at any moment, so ending its VM first can kill a job that just started; only
 * GitHub's DELETE answer (422 while busy) says race-free that it runs none:
 * https://docs.github.com/en/rest/actions/self-hosted-runners#delete-a-self-hosted-runner-from-an-organization
 * A runner that ran its job is a just-in-time runner, single-use: GitHub has removed it or
 * will, and it takes no other job, so asking would spend a GitHub write to hear 404.
 * A runner never registered, or whose registration the ledger cannot place (its job row
 * pruned long ago), has nothing to ask about.
 */
export function reapStep(c: ReapCandidate): ReapStep {
  if (c.terminating || c.runnerId === null || c.ranJob || !c.registeredWhere) return "terminate";
  return "deregister-first";
}

/** What GitHub answered to deleting the registration (the GitHub port's words). */
export type DeregisterOutcome = "deleted" | "gone" | "busy";

/**
 * After a deregistration: a runner GitHub no longer has (204 or 404) can never take a job,
 * so its VM ends; a busy one (422) is running a job GitHub gave it, so its VM is left to
 * finish that job and asked about again later.
 */
export function afterDeregistration(outcome: DeregisterOutcome): "terminate" | "leave" {
  return outcome === "busy" ? "leave" : "terminate";
}
