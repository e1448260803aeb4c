import type { JobListing, LatencyPoint } from "../../ledger/report-types.js";

export type { JobListing, LatencyPoint };

/** What the status page at `/` draws; gathered from the ledger at each request. */
export interface StatusView {
  readonly fleet: string;
  readonly generatedAt: Date;
  /** Live jobs by state (completed ones are not live). */
  readonly jobsByState: {
    readonly waiting: number;
    readonly queued: number;
    readonly in_progress: number;
  };
  /** Live jobs, oldest first, at most a page of them. */
  readonly liveJobs: readonly JobListing[];
  /** The last 24 hours, one point an hour that saw a job start, oldest first. */
  readonly queueLatency: readonly LatencyPoint[];
  /** VMs not yet terminated, by pool and state. */
  readonly vmsByPool: readonly {
    readonly pool: string;
    readonly launching: number;
    readonly running: number;
    readonly terminating: number;
  }[];
  /** Since the first day of this month (UTC), costliest first. */
  readonly monthStart: Date;
  readonly costByRepository: readonly {
    readonly repository: string;
    readonly vms: number;
    readonly estimatedCostUsd: number;
    /** What the same jobs would have cost on GitHub-hosted runners of the same size. */
    readonly hostedEquivalentUsd: number;
  }[];
}
