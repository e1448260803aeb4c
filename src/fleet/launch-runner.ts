import { createHash } from "node:crypto";
import type { PoolConfig } from "../config/fleet-schema.js";
import { relaunchVerdict, retryAt } from "../core/dispatch-plan.js";
import { launchAttempts, remainingAttempts } from "../core/launch-attempts.js";
import { CapacityError, CloudError, GitHubError } from "../errors.js";
import type { LaunchIntent, Subnet } from "../ledger/ledger.js";
import type { Logger } from "../log/logger.js";
import type { LaunchFailureReason } from "../metrics/fleet-metrics.js";
import type { FleetDeps } from "./fleet-deps.js";
import type { Pacer } from "./pacer.js";
import { renderUserData } from "./user-data.js";

export type LaunchDeps = FleetDeps & {
  /** The controller's base URL as runner VMs reach it: their user data names it. */
  readonly runnerEndpoint: string;
  /** Waits for EC2's launch rate before each RunInstances (the dispatcher's pacer). */
  readonly paceRunInstances?: Pacer;
  /** Told once a VM's launch is recorded: its ask may be waiting for it already. */
  readonly onLaunchRecorded?: (instanceId: string) => void;
};

/** `settled`: GitHub says the job started or ended, so no VM was launched for it. */
export type LaunchOutcome = "launched" | "failed" | "settled";

/**
 * Carries out one launch intent: subnet lease → VM → ledger. No GitHub write precedes the
 * VM: its runner is registered when the booted VM asks for its assignment
 * (src/assignment/), so the user data holds no secret. Any failure returns the lease and
 * backs the job off.
 */
export async function launchRunner(intent: LaunchIntent, deps: LaunchDeps): Promise<LaunchOutcome> {
  const log = deps.logger.child({
    jobId: intent.jobId,
    runnerName: intent.runnerName,
    pool: intent.pool,
  });
  const pool = deps.fleet.pools.find((p) => p.name === intent.pool);
  try {
    if (pool === undefined) throw new Error(`pool ${intent.pool} is no longer in the fleet file`);
    if (intent.installationId === null)
      throw new Error("the job's webhook named no App installation");
    if (intent.vmsLaunched > 0 && (await settledOnGitHub(intent, intent.installationId, deps)))
      return "settled";
    const zones = rotate(deps.fleet.network.availabilityZones, deps.random());
    const lease = await deps.ledger.leaseSubnet(intent.runnerRowId, zones, deps.now());
    if (lease === undefined) throw new NoSubnetError("no free runner subnet");
    const userData = renderUserData(deps.runnerEndpoint, pool);
    const vm = await launchWithFallback(pool, lease, userData, intent, deps);
    await deps.ledger.recordLaunch(intent.runnerRowId, { ...vm, runnerId: null });
    deps.onLaunchRecorded?.(vm.instanceId);
    log.info(
      { instanceId: vm.instanceId, instanceType: vm.instanceType, market: vm.market },
      "runner launched",
    );
    deps.metrics?.launched(intent.pool);
    return "launched";
  } catch (error) {
    deps.metrics?.launchFailed(intent.pool, failureReason(error));
    await backOff(intent, error, deps, log);
    return "failed";
  }
}

/**
 * A job that had a VM already and is still queued in the ledger may just have news on its
 * way (a late `in_progress` or `completed`): GitHub is asked before another VM starts, and
 * if a runner has the job or it is over, the intent ends and the job follows GitHub.
 */
async function settledOnGitHub(
  intent: LaunchIntent,
  installationId: number,
  deps: LaunchDeps,
): Promise<boolean> {
  const job = await deps.github.getJob(installationId, intent.repository, intent.jobId);
  const verdict = relaunchVerdict(job);
  if (verdict === "launch") return false;
  const reason = `not relaunched: GitHub has the job ${job?.status ?? "no more"}`;
  await deps.ledger.settleWithoutLaunch(
    intent.runnerRowId,
    { kind: verdict, conclusion: job?.conclusion ?? null },
    reason,
    deps.now(),
  );
  deps.logger.info(
    { jobId: intent.jobId, runnerName: intent.runnerName, status: job?.status ?? null },
    "job not relaunched",
  );
  return true;
}

/**
 * Launches in the leased subnet's zone first; on a capacity error tries the next instance
 * type, then moves the lease to another zone's free subnet, then the next market
 * (core/launch-attempts). The lease always names the subnet of the attempt in flight.
 */
async function launchWithFallback(
  pool: PoolConfig,
  lease: Subnet,
  userData: string,
  intent: LaunchIntent,
  deps: LaunchDeps,
) {
  let subnet = lease;
  const zones = [
    lease.availabilityZone,
    ...deps.fleet.network.availabilityZones.filter((z) => z !== lease.availabilityZone),
  ];
  let attempts = launchAttempts(pool.instanceTypes, pool.market, zones);
  let lastError: unknown;
  while (attempts.length > 0) {
    const attempt = attempts[0] as (typeof attempts)[number];
    if (attempt.availabilityZone !== subnet.availabilityZone) {
      await deps.ledger.releaseSubnet(intent.runnerRowId);
      const moved = await deps.ledger.leaseSubnet(
        intent.runnerRowId,
        [attempt.availabilityZone],
        deps.now(),
      );
      if (moved === undefined) {
        attempts = attempts.filter((a) => a.availabilityZone !== attempt.availabilityZone);
        continue;
      }
      subnet = moved;
    }
    try {
      await deps.paceRunInstances?.();
      return await deps.cloud.launch(
        {
          pool: pool.name,
          jobId: intent.jobId,
          runnerName: intent.runnerName,
          image: pool.image,
          instanceType: attempt.instanceType,
          market: attempt.market,
          subnetId: subnet.subnetId,
          diskGiB: pool.diskGiB,
          rootDevice: pool.rootDevice,
          ...(pool.volumeKmsKeyId === undefined ? {} : { volumeKmsKeyId: pool.volumeKmsKeyId }),
          userData,
        },
        clientToken(intent.launchToken, attempt.instanceType, attempt.market, subnet.subnetId),
      );
    } catch (error) {
      if (!(error instanceof CapacityError)) throw error;
      lastError = error;
      attempts = remainingAttempts(attempts, attempt, error.failure);
    }
  }
  throw lastError ?? new NoSubnetError("no free subnet in any zone to try");
}

/**
 * A failed launch returns its lease and is tried again later. A VM started whose record
 * then failed asks for an assignment nobody has for it: it powers off at its boot
 * timeout, and the reconciler ends it as an orphan past the launch grace.
 */
async function backOff(intent: LaunchIntent, error: unknown, deps: LaunchDeps, log: Logger) {
  const reason = error instanceof Error ? error.message : String(error);
  const retry = retryAt(deps.now(), intent.launchFailures + 1, deps.random());
  await deps.ledger.recordLaunchFailure(intent.runnerRowId, reason, retry, deps.now());
  log.warn({ err: error, retryAt: retry.toISOString() }, "launch failed");
}

/** No runner subnet was free for the launch (the subnet keeper makes more). */
class NoSubnetError extends Error {}

function failureReason(error: unknown): LaunchFailureReason {
  if (error instanceof CapacityError) return "capacity";
  if (error instanceof GitHubError) return "github";
  if (error instanceof CloudError) return "cloud";
  if (error instanceof NoSubnetError) return "no_subnet";
  return "other";
}

/**
 * One token per intent and attempt, so a retried call never starts a second VM while another
 * type, market or subnet is a new request. EC2 takes at most 64 ASCII characters:
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
 */
export function clientToken(
  launchToken: string,
  instanceType: string,
  market: string,
  subnetId: string,
): string {
  const token = `${launchToken}-${instanceType}-${market}-${subnetId}`;
  return token.length <= 64 ? token : createHash("sha256").update(token).digest("hex").slice(0, 64);
}

function rotate(zones: readonly string[], random: number): string[] {
  const start = Math.floor(random * zones.length) % Math.max(1, zones.length);
  return [...zones.slice(start), ...zones.slice(0, start)];
}
