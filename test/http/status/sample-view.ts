import type { JobListing, LatencyPoint, StatusView } from "../../../src/http/status/status-view.js";

const GENERATED_AT = new Date("2026-11-23T12:34:56Z");

function job(overrides: Partial<JobListing> & Pick<JobListing, "jobId" | "state">): JobListing {
  return {
    runId: 9_000_000 + overrides.jobId,
    org: "acme",
    repository: "acme/api",
    workflowName: "CI",
    jobName: "test (node 20)",
    pool: "linux-x64",
    conclusion: null,
    queuedAt: new Date("2026-11-23T12:30:00Z"),
    startedAt: null,
    completedAt: null,
    queueSeconds: 42,
    vm: null,
    launchError: null,
    gaveUp: null,
    ...overrides,
  };
}

/** The live jobs of the sample: one of each kind of row the table draws. */
export const SAMPLE_JOBS: readonly JobListing[] = [
  job({ jobId: 51_234_567_001, state: "waiting", queueSeconds: 296, pool: null }),
  job({
    jobId: 51_234_567_002,
    state: "waiting",
    repository: "acme/web-frontend",
    jobName: "build",
    queueSeconds: 187,
    launchError: "InsufficientInstanceCapacity: no c7i.xlarge capacity in eu-west-1b",
  }),
  job({
    jobId: 51_234_567_003,
    state: "queued",
    workflowName: "Release",
    jobName: "package",
    vm: {
      runnerName: "mayfly-51234567003-a1",
      state: "running",
      instanceId: "i-0a1b2c3d4e5f60718",
      instanceType: "c7i.large",
      market: "spot",
      availabilityZone: "eu-west-1a",
    },
  }),
  ...[4, 5, 6, 7].map((n) =>
    job({
      jobId: 51_234_567_000 + n,
      state: "in_progress",
      repository: n % 2 === 0 ? "acme/api" : "acme/data-pipelines",
      jobName: `shard ${n - 3} of 4`,
      queueSeconds: 20 + n * 3,
      startedAt: new Date("2026-11-23T12:31:00Z"),
      vm: {
        runnerName: `mayfly-5123456700${n}-a1`,
        state: "running",
        instanceId: `i-0ff${n}e5d4c3b2a1909`,
        instanceType: "m7i.2xlarge",
        market: "on-demand",
        availabilityZone: "eu-west-1c",
      },
    }),
  ),
];

/** 24 hourly points but for a quiet night (03:00–06:00 UTC) with no job started. */
export const SAMPLE_LATENCY: readonly LatencyPoint[] = Array.from({ length: 24 }, (_, i) => i)
  .filter((i) => i < 14 || i > 17)
  .map((i) => ({
    hour: new Date(Date.UTC(2026, 10, 22, 13 + i)),
    jobs: 5 + ((i * 7) % 23),
    p50Seconds: 18 + ((i * 13) % 29),
    p95Seconds: 60 + ((i * 37) % 170),
  }));

/** A busy fleet, with every chart and the table filled. */
export function sampleView(overrides: Partial<StatusView> = {}): StatusView {
  return {
    fleet: "acme-ci",
    generatedAt: GENERATED_AT,
    jobsByState: { waiting: 2, queued: 1, in_progress: 4 },
    liveJobs: SAMPLE_JOBS,
    queueLatency: SAMPLE_LATENCY,
    vmsByPool: [
      { pool: "linux-x64", launching: 1, running: 4, terminating: 1 },
      { pool: "linux-arm64", launching: 0, running: 2, terminating: 0 },
      { pool: "gpu-large", launching: 1, running: 0, terminating: 0 },
    ],
    monthStart: new Date("2026-11-01T00:00:00Z"),
    costByRepository: [
      { repository: "acme/api", vms: 412, estimatedCostUsd: 61.237, hostedEquivalentUsd: 164.8 },
      {
        repository: "acme/web-frontend",
        vms: 230,
        estimatedCostUsd: 28.5,
        hostedEquivalentUsd: 92.004,
      },
      {
        repository: "acme/data-pipelines",
        vms: 57,
        estimatedCostUsd: 19.994,
        hostedEquivalentUsd: 45.6,
      },
      { repository: "acme/docs", vms: 12, estimatedCostUsd: 0.42, hostedEquivalentUsd: 0.96 },
    ],
    ...overrides,
  };
}

/** A fleet that has just started: nothing live, nothing measured, nothing spent. */
export function emptyView(): StatusView {
  return sampleView({
    jobsByState: { waiting: 0, queued: 0, in_progress: 0 },
    liveJobs: [],
    queueLatency: [],
    vmsByPool: [],
    costByRepository: [],
  });
}
