import { startBenchWorld } from "../bench-world.js";
import { allDone, queueJobs } from "../job-load.js";
import { round } from "../stats.js";

/** GitHub's and EC2's limits as the burst meets them, on a clock `timeScale` times faster. */
export interface BurstParams {
  readonly jobs: number;
  readonly timeScale: number;
  /** GitHub: installation requests per hour (5,000), REST points per minute (900; a JIT POST is 5). */
  readonly primaryPerHour: number;
  readonly secondaryPointsPerMinute: number;
  /** EC2 RunInstances bucket (FIELD-NOTES: 1000 instances, refill 2/s). */
  readonly runBucket: number;
  readonly runRefillPerSecond: number;
  /** EC2 TerminateInstances bucket (1000, refill 20/s). */
  readonly terminateBucket: number;
  readonly terminateRefillPerSecond: number;
  /** Unscaled; divided by timeScale like every other time. */
  readonly bootMs: number;
  readonly jobMs: number;
  readonly githubLatencyMs: number;
  readonly ec2LatencyMs: number;
  readonly databaseUrl?: string;
}

export interface BurstFigures {
  readonly jobs: number;
  readonly launchesPerSecond: number;
  readonly limitMaxPerSecond: number;
  readonly utilisation: number;
  readonly githubThrottled: number;
  readonly ec2Throttled: number;
  readonly terminateCallsPerJob: number;
  readonly jobsLost: number;
  readonly writeSpacingMs: number;
}

const JIT_POINTS = 5;

/**
 * The fastest N launches GitHub's fixed windows and EC2's bucket allow, as launches per
 * second: every window lets points/5 JIT registrations through at its start; the bucket
 * holds `bucket` launches and refills at `refill` per second.
 */
export function limitMaxPerSecond(
  n: number,
  perWindow: number,
  windowSeconds: number,
  bucket: number,
  refill: number,
): number {
  const github = (Math.ceil(n / perWindow) - 1) * windowSeconds;
  const ec2 = Math.max(0, (n - bucket) / refill);
  const seconds = Math.max(github, ec2);
  // Within one window and one bucket the limits allow N at once; the sustained rate applies.
  return seconds > 0 ? n / seconds : Math.min(perWindow / windowSeconds, refill);
}

/**
 * 2000 jobs queued at once against a GitHub enforcing its secondary limit and an EC2
 * enforcing its buckets, both on a clock sped up `timeScale` times: launches per second
 * against the limits' best, and the rate-limit answers the controller met.
 */
export async function runBurst(p: BurstParams): Promise<BurstFigures> {
  const k = p.timeScale;
  const windowMs = 60_000 / k;
  const perWindow = Math.floor(p.secondaryPointsPerMinute / JIT_POINTS);
  // The operator setting that keeps JIT writes just under the secondary limit (5% headroom).
  const writeSpacingMs = Math.ceil((windowMs / perWindow) * 1.05);
  const bootMs = Math.round(p.bootMs / k);
  const bench = await startBenchWorld({
    ...(p.databaseUrl ? { databaseUrl: p.databaseUrl } : {}),
    bootMs,
    githubLatencyMs: p.githubLatencyMs / k,
    ec2LatencyMs: p.ec2LatencyMs / k,
    githubLimits: {
      primaryLimit: p.primaryPerHour,
      primaryWindowMs: 3_600_000 / k,
      secondaryPoints: p.secondaryPointsPerMinute,
      secondaryWindowMs: windowMs,
    },
    ec2Throttle: {
      RunInstances: { capacity: p.runBucket, refillPerSecond: p.runRefillPerSecond * k },
      TerminateInstances: {
        capacity: p.terminateBucket,
        refillPerSecond: p.terminateRefillPerSecond * k,
      },
    },
    writeSpacingMs,
    // The fleet file states the same limits on the controller's (unscaled) clock.
    limits: {
      githubRequestsPerHour: p.primaryPerHour * k,
      ec2LaunchesPerSecond: p.runRefillPerSecond * k,
      ec2LaunchBurst: p.runBucket,
      maxRunners: 2000,
    },
    idleSubnets: Math.min(
      2000,
      Math.ceil((perWindow / (windowMs / 1000)) * (bootMs / 1000 + 5)) + 50,
    ),
  });
  try {
    const started = performance.timeOrigin + performance.now();
    await queueJobs(bench.world, p.jobs, Number.POSITIVE_INFINITY, Math.round(p.jobMs / k));
    await allDone(bench.world, 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    const ec2 = bench.ec2.records.slice(bench.mark.ec2);
    const gh = bench.github.records.slice(bench.mark.github);
    const launches = ec2.filter((r) => r.info.action === "RunInstances" && r.status === 200);
    const last = Math.max(...launches.map((r) => r.atMs));
    const achieved = launches.length / ((last - started) / 1000);
    const best = limitMaxPerSecond(
      p.jobs,
      perWindow,
      windowMs / 1000,
      p.runBucket,
      p.runRefillPerSecond * k,
    );
    const jobs = bench.world.jobs();
    return {
      jobs: jobs.length,
      launchesPerSecond: round(achieved, 1) as number,
      limitMaxPerSecond: round(best, 1) as number,
      utilisation: round(achieved / best, 3) as number,
      githubThrottled: gh.filter((r) => r.status === 403 || r.status === 429).length,
      ec2Throttled: ec2.filter((r) => r.status === 503).length,
      terminateCallsPerJob: round(
        ec2.filter((r) => r.info.action === "TerminateInstances").length / Math.max(1, jobs.length),
        3,
      ) as number,
      jobsLost: jobs.filter((j) => j.status !== "completed").length,
      writeSpacingMs,
    };
  } finally {
    await bench.stop();
  }
}
