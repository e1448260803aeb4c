/** The `workflow_job` actions mayfly follows. */
export type JobAction = "waiting" | "queued" | "in_progress" | "completed";

/** What GitHub says of a job that stays the same over its life. */
export interface JobMetadata {
  readonly runId: number;
  readonly runAttempt: number;
  readonly installationId: number | null;
  readonly org: string;
  readonly repository: string;
  readonly workflowName: string | null;
  readonly jobName: string;
  readonly headBranch: string | null;
  readonly headSha: string;
  readonly labels: readonly string[];
}

/** What GitHub told us happened to a job, in our words (one `workflow_job` delivery). */
export interface JobEvent extends JobMetadata {
  readonly action: JobAction;
  readonly jobId: number;
  readonly createdAt: Date | null;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
  readonly conclusion: string | null;
  readonly runnerId: number | null;
  readonly runnerName: string | null;
}

/** A job as the ledger keeps it: metadata only, never code, logs or secrets. */
export interface Job extends JobMetadata {
  readonly id: number;
  readonly pool: string | null;
  readonly state: JobAction;
  readonly conclusion: string | null;
  readonly runnerId: number | null;
  readonly runnerName: string | null;
  readonly queuedAt: Date | null;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
}
