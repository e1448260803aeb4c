import type { BurstParams } from "./scenarios/burst.js";
import type { SteadyParams } from "./scenarios/steady.js";

/** Every parameter of one bench run; times in milliseconds. */
export interface BenchParams {
  readonly steady: Omit<SteadyParams, "databaseUrl">;
  readonly burst: Omit<BurstParams, "databaseUrl">;
  readonly intake: { readonly connections: number; readonly durationMs: number };
  readonly describeVms: number;
}

// Limits from FIELD-NOTES.md: GitHub 5,000 requests/hour per installation and 900 points per
// minute (a POST is 5); EC2 RunInstances bucket 1000 instances refilled at 2/s,
// TerminateInstances 1000 refilled at 20/s (AWS's throttling page). Latencies are our
// assumption (FIELD-NOTES gives none): 10 ms in the steady run so that it measures the
// controller rather than its queue behind the API; 100 ms in the burst, on its clock.
const LIMITS = {
  primaryPerHour: 5000,
  secondaryPointsPerMinute: 900,
  runBucket: 1000,
  runRefillPerSecond: 2,
  terminateBucket: 1000,
  terminateRefillPerSecond: 20,
};

/** `--quick`: the same scenarios, fewer jobs and a 2 s boot instead of 20 s. */
export function benchParams(quick: boolean): BenchParams {
  return {
    steady: {
      jobs: quick ? 120 : 1000,
      perSecond: 50,
      bootMs: quick ? 2000 : 20_000,
      jobMs: quick ? 500 : 2000,
      cancelEvery: 50,
      githubLatencyMs: 10,
      ec2LatencyMs: 10,
    },
    burst: {
      jobs: quick ? 400 : 2000,
      timeScale: 10,
      ...LIMITS,
      bootMs: 20_000,
      jobMs: 5000,
      githubLatencyMs: 100,
      ec2LatencyMs: 100,
    },
    intake: { connections: 64, durationMs: quick ? 2000 : 10_000 },
    describeVms: 1000,
  };
}
