import { available, type Bucket, charge, type Rate, take } from "../core/token-bucket.js";
import { type LaunchDeps, launchRunner } from "./launch-runner.js";
import { type Loop, startLoop } from "./loop.js";
import type { SubnetKeeper } from "./subnet-keeper.js";

export interface DispatcherOptions {
  readonly intervalMs: number;
  /** Launches in flight at once. */
  readonly concurrency: number;
  /** Creates runner subnets when the free ones are fewer than the launches claimed. */
  readonly subnets?: SubnetKeeper;
}

// A launch costs GitHub one JIT registration and EC2 one RunInstances (plus retries the
// clients pace themselves). The budgets come from the fleet file's limits.
const GITHUB_CALLS_PER_LAUNCH = 1;

/**
 * The dispatcher: each round claims what may launch now (within pool and fleet limits and
 * the GitHub and EC2 rate budgets) and launches it. Any number of replicas may run one.
 */
export function startDispatcher(deps: LaunchDeps, options: DispatcherOptions): Loop {
  const { limits } = deps.fleet;
  const githubRate: Rate = {
    capacity: Math.max(1, limits.githubRequestsPerHour / 60),
    perSecond: limits.githubRequestsPerHour / 3600,
  };
  const ec2Rate: Rate = {
    capacity: Math.max(1, limits.ec2LaunchesPerSecond * 5),
    perSecond: limits.ec2LaunchesPerSecond,
  };
  const start = deps.now().getTime();
  let github: Bucket = { tokens: githubRate.capacity, at: start };
  // Every installation request the GitHub client made beyond what the rounds reserved
  // (retries, the reaper's and reconciler's calls) is charged to the same budget.
  let seen = deps.github.installationRequestsMade();
  let reserved = 0;
  let ec2: Bucket = { tokens: ec2Rate.capacity, at: start };
  const maxByPool = new Map(deps.fleet.pools.map((p) => [p.name, p.maxRunners]));

  const loop: Loop = startLoop(
    "dispatcher",
    async () => {
      const now = deps.now();
      const ms = now.getTime();
      const made = deps.github.installationRequestsMade();
      github = charge(github, githubRate, ms, Math.max(0, made - seen - reserved));
      seen = made;
      reserved = 0;
      const budget = Math.min(
        options.concurrency,
        Math.floor(available(github, githubRate, ms) / GITHUB_CALLS_PER_LAUNCH),
        available(ec2, ec2Rate, ms),
      );
      deps.metrics?.budgetLeft("github", available(github, githubRate, ms));
      deps.metrics?.budgetLeft("ec2", available(ec2, ec2Rate, ms));
      if (budget <= 0) return { claimed: 0 };
      const intents = await deps.ledger.claimLaunches({
        fleet: deps.fleet.fleet,
        now,
        budget,
        fleetMax: limits.maxRunners,
        maxByPool,
      });
      github = take(github, githubRate, ms, intents.length * GITHUB_CALLS_PER_LAUNCH);
      reserved = intents.length * GITHUB_CALLS_PER_LAUNCH;
      ec2 = take(ec2, ec2Rate, ms, intents.length);
      if (intents.length > 0) {
        // A launch without a free subnet fails and backs off, so a keeper failure is
        // logged here rather than holding up the launches that can go ahead.
        await options.subnets?.ensureFree(intents.length).catch((error: unknown) => {
          deps.logger.error({ err: error, loop: "dispatcher" }, "could not create runner subnets");
        });
      }
      const outcomes = await Promise.all(intents.map((intent) => launchRunner(intent, deps)));
      // A round that used its whole budget may have left jobs queued: claim again at once
      // rather than after the interval (a burst's webhooks all came before this round).
      if (intents.length > 0 && intents.length === budget) loop.kick();
      return {
        claimed: intents.length,
        launched: outcomes.filter((o) => o === "launched").length,
        failed: outcomes.filter((o) => o === "failed").length,
      };
    },
    { intervalMs: options.intervalMs, logger: deps.logger, random: deps.random },
  );
  return loop;
}
