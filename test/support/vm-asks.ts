import type { AssignmentAnswer } from "../../src/assignment/assignments.js";
import { LedgerAssignments } from "../../src/assignment/ledger-assignments.js";
import type { FleetDeps } from "../../src/fleet/fleet-deps.js";
import { PoolRunnerGroups } from "../../src/github/pool-runner-groups.js";

/** The account and Region of the simulated EC2's instances. */
export const SIM_ACCOUNT = "123456789012";
export const SIM_REGION = "eu-west-1";

/**
 * A launched VM asking for its assignment, as the endpoint asks the service once the
 * identity document is verified: the launch path registers no runner, the ask does.
 */
export async function vmAsks(
  deps: Pick<FleetDeps, "ledger" | "github" | "fleet" | "now" | "logger">,
  instanceId: string,
  pendingTime: Date,
): Promise<AssignmentAnswer> {
  const service = new LedgerAssignments({
    ledger: deps.ledger,
    github: deps.github,
    pools: deps.fleet.pools,
    runnerGroups: new PoolRunnerGroups({
      github: deps.github,
      fleet: deps.fleet.fleet,
      pools: deps.fleet.pools,
      logger: deps.logger,
    }),
    fleet: { accountId: SIM_ACCOUNT, region: SIM_REGION },
    now: deps.now,
    logger: deps.logger,
  });
  return service.answer({ accountId: SIM_ACCOUNT, region: SIM_REGION, instanceId, pendingTime });
}

/** Asks for the VM and fails unless it was answered its JIT config. */
export async function vmGetsAssignment(
  deps: Parameters<typeof vmAsks>[0],
  instanceId: string,
  pendingTime: Date,
): Promise<string> {
  const answer = await vmAsks(deps, instanceId, pendingTime);
  if (answer.kind !== "assigned")
    throw new Error(`the VM was answered ${JSON.stringify(answer)}, not its assignment`);
  return answer.jitConfig.reveal();
}
