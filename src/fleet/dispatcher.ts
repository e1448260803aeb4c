import { repositoryCapsOf } from "../config/fleet-schema.js";
import { available, type Bucket, charge, type Rate, take } from "../core/token-bucket.js";
import { type LaunchDeps, launchRunner } from "./launch-runner.js";
import { type Loop, startLoop } from "./loop.js";
import { createPacer } from "./pacer.js";
import type { SubnetKeeper } from "./subnet-keeper.js";

export interface DispatcherOptions {
  readonly intervalMs: number;
  /** Launches in flight at once. */
  readonly concurrency: number;
  /** Creates runner subnets when the free ones are fewer than the launches claimed. */
  readonly subnets?: SubnetKeeper;
}

// A launch costs EC2 one RunInstances and GitHub one JIT registration, made when its VM
// asks for its assignment, seconds later (plus retries the clients pace themselves): the
// registration is reserved here, at claim time. The budgets come from the fleet file's limits.
const GITHUB_CALLS_PER_LAUNCH = 1;
// Of an installation's hourly limit, at least this share is left to the reaper's and the
// reconciler's reads, however much the fleet file lets launches spend.
const GITHUB_READ_RESERVE = 0.02;

/**
 * The dispatcher: each round claims what may launch now (within pool, per-repository and
 * fleet limits, the GitHub and EC2 rate budgets and `concurrency` launches in flight) and
 * starts those launches. Any number of replicas may run one; stopping waits for launches in flight.
 */
export function startDispatcher(deps: LaunchDeps, options: DispatcherOptions): Loop {
  const { limits } = deps.fleet;
  const githubRate: Rate = {
    capacity: Math.max(1, limits.githubRequestsPerHour / 60),
    perSecond: limits.githubRequestsPerHour / 3600,
  };
  const ec2Rate: Rate = {
    capacity: limits.ec2LaunchBurst,
    perSecond: limits.ec2LaunchesPerSecond,
  };
  const start = deps.now().getTime();
  let github: Bucket = { tokens: githubRate.capacity, at: start };
  // Every installation request the GitHub client made beyond what the rounds reserved
  // (retries, the reaper's and reconciler's calls) is charged to the same budget.
  let seen = deps.github.installationRequestsMade();
  // Requests taken from the budget at claim time that the launches have not made yet.
  let reserved = 0;
  let ec2: Bucket = { tokens: ec2Rate.capacity, at: start };
  // The same rate again at each RunInstances, on the wall clock it waits on: one claim's
  // calls can bunch with a later claim's.
  const launchDeps: LaunchDeps = { ...deps, paceRunInstances: createPacer(ec2Rate, Date.now) };
  const maxByPool = new Map(deps.fleet.pools.map((p) => [p.name, p.maxRunners]));
  const repositoryCaps = repositoryCapsOf(deps.fleet);
  const inFlight = new Set<Promise<unknown>>();

  const loop: Loop = startLoop(
    "dispatcher",
    async () => {
      const now = deps.now();
      const ms = now.getTime();
      const made = deps.github.installationRequestsMade();
      github = charge(github, githubRate, ms, Math.max(0, made - seen - reserved));
      reserved = Math.max(0, reserved - (made - seen));
      seen = made;
      // Once GitHub has reported an installation's budget, that is what launches may spend,
      // less what the fleet file keeps back and what launches in flight will still make;
      // until then, the bucket paces them.
      const reported = deps.github.installationBudget(now);
      const githubLeft =
        reported === undefined
          ? available(github, githubRate, ms)
          : reported.remaining -
            reserved -
            Math.max(
              reported.limit - limits.githubRequestsPerHour,
              Math.ceil(reported.limit * GITHUB_READ_RESERVE),
            );
      const budget = Math.min(
        options.concurrency - inFlight.size,
        Math.floor(githubLeft / GITHUB_CALLS_PER_LAUNCH),
        available(ec2, ec2Rate, ms),
      );
      deps.metrics?.budgetLeft("github", Math.max(0, githubLeft));
      deps.metrics?.budgetLeft("ec2", available(ec2, ec2Rate, ms));
      if (budget <= 0) return { claimed: 0 };
      const intents = await deps.ledger.claimLaunches({
        fleet: deps.fleet.fleet,
        now,
        budget,
        fleetMax: limits.maxRunners,
        maxByPool,
        repositoryCaps,
        maxLaunchesPerJob: limits.maxLaunchesPerJob,
      });
      github = take(github, githubRate, ms, intents.length * GITHUB_CALLS_PER_LAUNCH);
      reserved += intents.length * GITHUB_CALLS_PER_LAUNCH;
      ec2 = take(ec2, ec2Rate, ms, intents.length);
      if (intents.length > 0) {
        // A launch without a free subnet fails and backs off, so a keeper failure is
        // logged here rather than holding up the launches that can go ahead.
        await options.subnets?.ensureFree(intents.length).catch((error: unknown) => {
          deps.logger.error({ err: error, loop: "dispatcher" }, "could not create runner subnets");
        });
      }
      // Launches run beside the loop, so a job queued meanwhile does not wait for the
      // others' GitHub and EC2 calls; each one done frees a slot and claims again at once.
      for (const intent of intents) {
        const launch = launchRunner(intent, launchDeps).finally(() => {
          inFlight.delete(launch);
          loop.kick();
        });
        inFlight.add(launch);
      }
      return intents.length === 0
        ? { claimed: 0 }
        : { claimed: intents.length, inFlight: inFlight.size };
    },
    { intervalMs: options.intervalMs, logger: deps.logger, random: deps.random },
  );
  return {
    kick: () => loop.kick(),
    async stop() {
      await loop.stop();
      await Promise.all(inFlight);
    },
  };
}
