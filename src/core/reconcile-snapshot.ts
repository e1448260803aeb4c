/**
 * What the reconciler sees in one pass: the ledger, the cloud and GitHub, in our words.
 * The I/O side should read the cloud and GitHub first and the ledger last, in one
 * transaction: the ledger writes every launch intent before any call to GitHub or EC2, so a
 * VM or registration seen first always has its runner row in the later ledger read.
 */

/** A VM's status as the cloud reports it (the words of the cloud port's `VmStatus`). */
export type ObservedVmStatus =
  | "pending"
  | "running"
  | "shutting-down"
  | "terminated"
  | "stopping"
  | "stopped";

/** A pool's time limits, in seconds, as the fleet config declares them. */
export interface PoolLimits {
  readonly name: string;
  /** A VM whose runner has not taken its job this long after launch is ended. */
  readonly idleTimeout: number;
  /** A VM that has not asked for its assignment this long after launch is ended. */
  readonly bootTimeout: number;
  /** No VM of the pool lives longer than this, whatever it serves. */
  readonly maxLifetime: number;
}

/** The states of a runner row that is not yet terminated. */
export type LiveRunnerState = "launching" | "running" | "terminating";

/** A runner row of the ledger that is not yet terminated. */
export interface LedgerRunner {
  readonly rowId: number;
  /** Null while the launch has not recorded an instance (or never will). */
  readonly instanceId: string | null;
  readonly runnerName: string;
  readonly pool: string;
  /** The job the runner serves now (rebound when another job took it); null for none. */
  readonly jobId: number | null;
  readonly state: LiveRunnerState;
  /** When the launch intent was written. */
  readonly createdAt: Date;
  /** When the cloud started the VM, once recorded. */
  readonly launchedAt: Date | null;
  /** Whether the job it serves has completed (or is otherwise over). */
  readonly jobEnded: boolean;
  /** Whether the runner took its job (GitHub named it in `in_progress`). */
  readonly tookJob: boolean;
  /** GitHub's ID of its registration, once known. */
  readonly githubRunnerId: number | null;
  /** Whether its VM has asked for its assignment (a claim or an answer is recorded). */
  readonly asked: boolean;
}

/** A job of the ledger that is queued and has no live runner. */
export interface QueuedJob {
  readonly jobId: number;
  readonly pool: string;
  readonly queuedAt: Date;
  /** Failed launches of this job so far. */
  readonly launchFailures: number;
  /** VMs started for this job so far (successful launches). */
  readonly vmsLaunched: number;
}

/** A VM carrying the fleet's tag, as the cloud lists it (structurally the cloud's `VmState`). */
export interface ObservedVm {
  readonly instanceId: string;
  readonly status: ObservedVmStatus;
  readonly pool: string | null;
  /** The job tag, as set at launch (a stolen runner's tag still names its first job). */
  readonly jobId: number | null;
  readonly runnerName: string | null;
  readonly launchedAt: Date;
  /** The cloud's reason for the last state change, e.g. `Server.SpotInstanceTermination`. */
  readonly stateReason: string | null;
  /** The subnet it runs in, or null when the cloud does not say. */
  readonly subnetId: string | null;
}

/** A runner registration on GitHub (structurally the GitHub port's `RunnerInfo`). */
export interface ObservedRegistration {
  readonly id: number;
  readonly name: string;
  readonly status: "online" | "offline";
  readonly busy: boolean;
}

/** A subnet leased in the ledger, and the runner row holding it. */
export interface SubnetLease {
  readonly subnetId: string;
  readonly runnerRowId: number;
}

/** Everything one reconcile pass decides from. */
export interface ReconcileSnapshot {
  readonly now: Date;
  readonly fleet: string;
  readonly pools: readonly PoolLimits[];
  readonly runners: readonly LedgerRunner[];
  readonly queuedJobs: readonly QueuedJob[];
  readonly vms: readonly ObservedVm[];
  /** Registrations whose names are this fleet's (others are ignored anyway). */
  readonly registrations: readonly ObservedRegistration[];
  readonly leases: readonly SubnetLease[];
  /**
   * Every runner subnet of the fleet the ledger knows. A tag anyone allowed `ec2:CreateTags`
   * can set; a VM in none of these is never ended as an orphan.
   */
  readonly runnerSubnets: readonly string[];
  /**
   * Seconds a launch may be in flight: the cloud may not list a VM it just started, and the
   * ledger may not have recorded it yet. Nothing younger than this is judged.
   */
  readonly launchGraceSeconds: number;
}
