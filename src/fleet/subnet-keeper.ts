import { planSubnets } from "../core/subnet-plan.js";
import { CloudConflictError } from "../errors.js";
import type { FleetDeps } from "./fleet-deps.js";
import { type Loop, startLoop } from "./loop.js";

export type SubnetKeeperDeps = Pick<FleetDeps, "ledger" | "cloud" | "fleet" | "logger" | "now">;

export interface KeeperRound {
  readonly adopted: number;
  readonly created: number;
  readonly removed: number;
}

/** Keeps the runner subnets: enough free ones for the launches at hand, no long-idle surplus. */
export interface SubnetKeeper {
  /** Makes sure `wanted` subnets are free, creating some if needed; the cloud is asked only then. */
  ensureFree(wanted: number): Promise<void>;
  /** A full round: adopt and isolate the cloud's subnets of ours, then create and delete per plan. */
  round(wanted?: number): Promise<KeeperRound>;
}

/**
 * The one subnet keeper of this process; its rounds never overlap. Replicas may each run one:
 * EC2 refuses overlapping CIDRs, so two never create the same subnet, and the ledger
 * forgets a subnet (so none can lease it) before the cloud's is deleted.
 */
export function createSubnetKeeper(deps: SubnetKeeperDeps): SubnetKeeper {
  const { network } = deps.fleet;
  const log = deps.logger.child({ loop: "subnet-keeper" });
  // CIDRs EC2 said overlap a subnet that is not ours; the plan steers around them.
  const foreign = new Set<string>();
  let last: Promise<unknown> = Promise.resolve();

  async function round(wanted = 0): Promise<KeeperRound> {
    // The ledger is read first: a subnet another replica adds after this read is not in
    // `before`, and one it added before is already in the cloud's list.
    const before = new Set((await deps.ledger.listSubnets()).map((s) => s.subnetId));
    const inCloud = await deps.cloud.listSubnets();
    for (const s of inCloud) if (!s.isolated) await deps.cloud.isolateSubnet(s.subnetId);
    await deps.ledger.addSubnets(inCloud);
    const adopted = inCloud.filter((s) => !before.has(s.subnetId)).length;
    // A subnet deleted behind our back can no longer be leased.
    const present = new Set(inCloud.map((s) => s.subnetId));
    for (const id of before) if (!present.has(id)) await deps.ledger.removeSubnet(id);

    const plan = planSubnets({
      range: network.runnerCidr,
      prefixLength: network.subnetPrefixLength,
      zones: network.availabilityZones,
      subnets: (await deps.ledger.listSubnets()).filter((s) => present.has(s.subnetId)),
      otherCidrs: [...foreign],
      maxSubnets: network.maxSubnets,
      idleSubnets: network.idleSubnets,
      wanted,
      idleTtlSeconds: network.subnetIdleTtl,
      now: deps.now(),
    });
    let created = 0;
    for (const want of plan.create) {
      try {
        const subnet = await deps.cloud.createSubnet(want.cidr, want.availabilityZone);
        await deps.ledger.addSubnets([subnet]);
        created++;
      } catch (error) {
        if (!(error instanceof CloudConflictError)) throw error;
        foreign.add(want.cidr);
      }
    }
    let removed = 0;
    const byId = new Map(inCloud.map((s) => [s.subnetId, s]));
    for (const subnetId of plan.remove) {
      if (!(await deps.ledger.removeSubnet(subnetId))) continue;
      try {
        await deps.cloud.deleteSubnet(subnetId);
        removed++;
      } catch (error) {
        // EC2 keeps a subnet a while after its instance ended (DependencyViolation while the
        // network interface goes): it is free again in the ledger, and deleted a round later.
        const subnet = byId.get(subnetId);
        if (subnet !== undefined) await deps.ledger.addSubnets([subnet]);
        log.warn({ err: error, subnetId }, "subnet not deleted; kept for a later round");
      }
    }
    return { adopted, created, removed };
  }

  /** Runs `work` after every earlier call has settled: one round at a time. */
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const next = last.then(work, work);
    last = next.catch(() => undefined);
    return next;
  }

  return {
    round: (wanted) => serial(() => round(wanted)),
    async ensureFree(wanted) {
      if (wanted <= 0) return;
      const free = (await deps.ledger.listSubnets()).filter((s) => !s.leased).length;
      if (free >= wanted) return;
      const result = await serial(() => round(wanted));
      log.info({ ...result, wanted, free }, "runner subnets created for launches");
    },
  };
}

/** The keeper's own loop: tops up idle subnets, adopts Terraform's, trims surplus. */
export function startSubnetKeeper(
  keeper: SubnetKeeper,
  deps: Pick<FleetDeps, "logger" | "random">,
  options: { intervalMs: number },
): Loop {
  return startLoop("subnet-keeper", async () => ({ ...(await keeper.round()) }), {
    intervalMs: options.intervalMs,
    logger: deps.logger,
    random: deps.random,
  });
}
