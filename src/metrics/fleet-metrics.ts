/** Why a launch failed, in few enough words to be a metric label. */
export type LaunchFailureReason = "capacity" | "github" | "cloud" | "no_subnet" | "other";

/** A service mayfly spends an API budget with. */
export type ApiService = "github" | "ec2";

/** What the fleet tells its metrics; counted in-process, read at `/metrics`. */
export interface FleetMetrics {
  /** A job of ours started running after waiting this long in the queue. */
  jobStarted(queueSeconds: number): void;
  /** A VM was launched for a job of this pool. */
  launched(pool: string): void;
  /** A launch of this pool failed, and why. */
  launchFailed(pool: string, reason: LaunchFailureReason): void;
  /** One HTTP request to a service (retries included). */
  apiCall(service: ApiService): void;
  /** The service throttled a request (rate limit or request limit exceeded). */
  throttled(service: ApiService): void;
  /** The reconciler stopped launching a job of this pool, and why. */
  gaveUp(pool: string, reason: "too-many-launch-failures" | "too-many-launches"): void;
  /** The reconciler repaired this many of one kind of difference. */
  repaired(kind: string, count: number): void;
  /** A phase of a reconcile pass failed (the pass's other phases still ran). */
  reconcileFailed(phase: string): void;
  /** The dispatcher's rate budget left for a service, in requests. */
  budgetLeft(service: ApiService, requests: number): void;
  /** The assignment endpoint refused a VM (403 or 410), and why. */
  assignmentRefused(reason: string): void;
}
