/** What the ledger answers to operators: job listings, usage reports and fleet counts. */

import type { RepositoryCount } from "../core/repository-share.js";

export type JobStateName = "waiting" | "queued" | "in_progress" | "completed";

/** One job as `/api/jobs`, `mayfly jobs` and the status page show it. */
export interface JobListing {
  readonly jobId: number;
  readonly runId: number;
  readonly org: string;
  readonly repository: string;
  readonly workflowName: string | null;
  readonly jobName: string;
  readonly pool: string | null;
  readonly state: JobStateName;
  readonly conclusion: string | null;
  readonly queuedAt: Date | null;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
  /** Queued to started; for a job not started yet, queued to now. Null if never queued. */
  readonly queueSeconds: number | null;
  /** The VM of the job's latest runner, if one was launched for it. */
  readonly vm: {
    readonly runnerName: string;
    readonly state: "launching" | "running" | "terminating" | "terminated";
    readonly instanceId: string | null;
    readonly instanceType: string | null;
    readonly market: string | null;
    readonly availabilityZone: string | null;
  } | null;
  /** Why the last launch failed, while that is the latest news of the job. */
  readonly launchError: string | null;
  /** Set when mayfly stopped launching the job (it may still be queued on GitHub): why. */
  readonly gaveUp: {
    readonly reason: "too-many-launch-failures" | "too-many-launches";
    readonly words: string;
  } | null;
}

/** Which jobs to list; every field narrows, none given lists the most recent. */
export interface JobFilter {
  readonly states?: readonly JobStateName[];
  readonly org?: string;
  readonly repository?: string;
  readonly pool?: string;
  /** Jobs recorded at or after this time. */
  readonly since?: Date;
  readonly limit: number;
}

/** Queue latency (queued to started) of the jobs that started within one hour. */
export interface LatencyPoint {
  readonly hour: Date;
  readonly jobs: number;
  readonly p50Seconds: number;
  readonly p95Seconds: number;
}

/** What usage reports group by. */
export const USAGE_DIMENSIONS = [
  "org",
  "repo",
  "workflow",
  "pool",
  "type",
  "market",
  "zone",
  "day",
  "month",
  "job",
] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

/** Usage of VMs launched on days in [since, until), grouped by the dimensions asked for. */
export interface UsageQuery {
  readonly since: Date;
  readonly until?: Date;
  readonly by: readonly UsageDimension[];
}

/** One group of a usage report. */
export interface UsageRow {
  /** The group's value for each dimension asked for ("" where the ledger has none). */
  readonly key: Readonly<Partial<Record<UsageDimension, string>>>;
  readonly vms: number;
  /** Jobs that ran on those VMs. */
  readonly jobs: number;
  /** Seconds billed: launch to termination. */
  readonly instanceSeconds: number;
  readonly jobSeconds: number;
  /** VM seconds outside any job: boot, idle, reaping, VMs that ran none. */
  readonly wasteSeconds: number;
  readonly estimatedCostUsd: number;
  /** The same jobs on GitHub-hosted runners of the same size. */
  readonly hostedEquivalentUsd: number;
  /** VMs whose type has no price in the fleet file (their cost is not in the total). */
  readonly unpricedVms: number;
  /** VMs the cloud took back (spot interruptions). */
  readonly interruptedVms: number;
}

export type { RepositoryCount };

/** Live jobs, VMs and subnets, counted for metrics and the status page. */
export interface FleetCounts {
  readonly jobs: readonly {
    readonly pool: string | null;
    readonly state: JobStateName;
    readonly count: number;
  }[];
  readonly runners: readonly {
    readonly pool: string;
    readonly state: "launching" | "running" | "terminating";
    readonly count: number;
  }[];
  readonly subnets: { readonly leased: number; readonly free: number };
  /** Per pool and repository: live VMs, and queued jobs without one (for the per-repository cap). */
  readonly repositories: readonly RepositoryCount[];
}

/** What one retention pass removed. */
export type Pruned = {
  readonly deliveries: number;
  readonly jobs: number;
  readonly runners: number;
  readonly usage: number;
};
