import type { Job, JobEvent } from "../core/job.js";
import type { GiveUpReason } from "../core/reconcile-plan.js";
import type { LedgerRunner, QueuedJob, SubnetLease } from "../core/reconcile-snapshot.js";
import type { RepositoryCaps } from "../core/repository-caps.js";
import type { UsagePrices } from "../core/usage-cost.js";
import type { PruneCutoffs } from "./prune-ledger.js";
import type {
  FleetCounts,
  JobFilter,
  JobListing,
  LatencyPoint,
  Pruned,
  UsageQuery,
  UsageRow,
} from "./report-types.js";

/** One webhook delivery as the ledger keeps it: its ID and event name, never its body. */
export interface Delivery {
  readonly id: string;
  readonly event: string;
  readonly receivedAt: Date;
}

/**
 * `recorded`: the delivery was new and its event applied (the job may be unchanged if the
 * event was late). `duplicate`: this delivery ID was seen before; nothing changed.
 * `ignored`: the job matches no pool and is unknown to the ledger; nothing stored.
 */
export type IngestOutcome = "recorded" | "duplicate" | "ignored";

/** What the dispatcher may launch in one round. */
export interface ClaimRequest {
  readonly fleet: string;
  readonly now: Date;
  /** Launches the rate budgets allow this round. */
  readonly budget: number;
  readonly fleetMax: number;
  readonly maxByPool: ReadonlyMap<string, number>;
  /** Each pool's cap on one repository's live VMs (maxRunnersPerRepository); absent: none. */
  readonly repositoryCaps?: RepositoryCaps | undefined;
  /** Queued jobs looked at per round (the repositories' oldest first, taking turns). */
  readonly scanLimit?: number;
  /** A job that had this many VMs is not launched again. */
  readonly maxLaunchesPerJob: number;
}

/** A launch decided and written down, before any call to GitHub or EC2. */
export interface LaunchIntent {
  readonly runnerRowId: number;
  readonly jobId: number;
  readonly runId: number;
  readonly pool: string;
  readonly runnerName: string;
  /** The EC2 ClientToken: the same intent never starts two VMs. */
  readonly launchToken: string;
  readonly installationId: number | null;
  readonly org: string;
  readonly repository: string;
  readonly labels: readonly string[];
  /** Failed launches of this job so far, for the backoff. */
  readonly launchFailures: number;
  /** VMs started for this job before this intent: more than none, and GitHub is asked first. */
  readonly vmsLaunched: number;
}

/** A VM the cloud started for an intent. */
export interface LaunchedVm {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly market: "spot" | "on-demand";
  readonly availabilityZone: string;
  /** GitHub's ID of its runner; null when the runner registers as the VM asks (assignment-ledger.ts). */
  readonly runnerId: number | null;
  readonly launchedAt: Date;
}

/** A runner subnet. */
export interface Subnet {
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly cidr: string;
}

/** A runner subnet as the ledger holds it. */
export interface LedgerSubnet extends Subnet {
  readonly leased: boolean;
  /** When it was last given back (or added); null while leased. */
  readonly freeSince: Date | null;
}

/** The runner row an instance asks for its assignment as (assignment-ledger.ts). */
export interface AssignmentRow {
  readonly runnerRowId: number;
  readonly instanceId: string;
  readonly state: "launching" | "running" | "terminating" | "terminated";
  readonly pool: string;
  readonly runnerName: string;
  /** GitHub's ID of its registration, once registered. */
  readonly runnerId: number | null;
  /** EC2's launch time, once recorded. */
  readonly launchedAt: Date | null;
  /** When a replica began registering its runner, while that is in flight. */
  readonly claimedAt: Date | null;
  /** When the first answer went out. */
  readonly assignedAt: Date | null;
  /** When GitHub first named its runner as running a job. */
  readonly runnerStartedAt: Date | null;
  /** The job it serves now and where that job's runner registers; null for none. */
  readonly job: {
    readonly jobId: number;
    readonly ended: boolean;
    readonly labels: readonly string[];
    readonly installationId: number;
    readonly org: string;
    /** "owner/name", for a pool whose runners register at repository level. */
    readonly repository: string;
  } | null;
}

/** A live VM the reaper should end. */
export interface ReapTarget {
  readonly runnerRowId: number;
  readonly instanceId: string;
  /** GitHub's runner ID, to deregister a runner that never ran its job. */
  readonly runnerId: number | null;
  readonly jobId: number | null;
  readonly org: string | null;
  readonly installationId: number | null;
  readonly pool: string;
  /** The job's repository ("owner/name"): where a pool's repository-level runner is registered. */
  readonly repository: string | null;
  /** Whether the runner took its job (then GitHub removes it by itself). */
  readonly ranJob: boolean;
  /** Termination was asked for before and the VM outlived it: ask again. */
  readonly terminating: boolean;
}

/** A VM the cloud reports terminated. */
export interface TerminatedVm {
  readonly instanceId: string;
  readonly terminatedAt: Date;
  /** Why it ended, as the cloud says (e.g. a spot interruption); null if asked by us. */
  readonly reason: string | null;
  /** The runner row, when the ledger never recorded the instance ID (a launch cut short). */
  readonly runnerRowId?: number;
}

/** The ledger's side of a reconcile pass (see core/reconcile-snapshot.ts). */
export interface ReconcileView {
  readonly runners: readonly LedgerRunner[];
  readonly queuedJobs: readonly QueuedJob[];
  readonly leases: readonly SubnetLease[];
  /** Every runner subnet the ledger knows, leased or free. */
  readonly runnerSubnets: readonly string[];
  /** App installations and their organisations seen in recent jobs. */
  readonly installations: readonly { readonly installationId: number; readonly org: string }[];
  /**
   * Where each live runner the ledger knows a GitHub ID for is registered, by that ID, with
   * its pool and its job's repository (a pool's repository-level runner is registered there).
   */
  readonly registeredIn: ReadonlyMap<
    number,
    {
      readonly installationId: number;
      readonly org: string;
      readonly pool: string;
      readonly repository: string;
    }
  >;
}

/** A job to ask GitHub about. */
export interface JobToCheck {
  readonly jobId: number;
  readonly installationId: number;
  readonly repository: string;
}

/** Whether this process led a task, and what the task answered if it did. */
export type Leadership<T> =
  | { readonly leader: true; readonly result: T }
  | { readonly leader: false };

/** The ledger port: job metadata, deliveries, runners, subnets and usage in PostgreSQL. */
export interface Ledger {
  /** Applies schema migrations not yet applied; safe to run from several replicas. */
  migrate(): Promise<void>;
  /** Records a delivery and applies its job event in one transaction; a known delivery ID is a no-op. */
  ingest(delivery: Delivery, event: JobEvent, pool: string | null): Promise<IngestOutcome>;
  /** One job by its GitHub job ID. */
  getJob(id: number): Promise<Job | undefined>;
  /** Deletes what retention no longer keeps (live jobs and VMs never); answers how many of each. */
  prune(cutoffs: PruneCutoffs): Promise<Pruned>;
  /** The delivery IDs among `ids` that the ledger holds, received or skipped (pruned ones are forgotten). */
  knownDeliveries(ids: readonly string[]): Promise<Set<string>>;
  /** Remembers a logged delivery recovery could not apply (its ID and a reason code, never its body). */
  skipDelivery(id: string, reason: string, at: Date): Promise<void>;
  /** When the newest delivery reached us (only those received before `before`, if given). */
  latestDeliveryAt(before?: Date): Promise<Date | undefined>;
  /** Claims the jobs to launch now within every limit and writes their launch intents. */
  claimLaunches(req: ClaimRequest): Promise<LaunchIntent[]>;
  /** Records the VM started for an intent; repeating it is a no-op. */
  recordLaunch(runnerRowId: number, vm: LaunchedVm): Promise<void>;
  /** The runner row an instance asks for its assignment as; undefined when none. */
  findAssignment(instanceId: string): Promise<AssignmentRow | undefined>;
  /** Takes the one right to register an instance's runner; false when another holds it or it was answered. */
  claimAssignment(runnerRowId: number, now: Date, staleBefore: Date): Promise<boolean>;
  /** Takes the one right to register an answered VM's runner again (its answer was lost, and the JIT config is not kept). */
  claimReissue(runnerRowId: number, now: Date, staleBefore: Date): Promise<boolean>;
  /** Records the registration made under a claim and when its answer went out. */
  recordAssignment(runnerRowId: number, runnerId: number, now: Date): Promise<void>;
  /** Gives a claim up when the registration failed, so that the VM's next ask tries again. */
  releaseAssignmentClaim(runnerRowId: number): Promise<void>;
  /** Ends a failed intent, returns its subnet, and backs the job off until `retryAt`. */
  recordLaunchFailure(runnerRowId: number, reason: string, retryAt: Date, now: Date): Promise<void>;
  /** Ends an intent not carried out because GitHub says its job started or ended; the job follows. */
  settleWithoutLaunch(
    runnerRowId: number,
    outcome: { readonly kind: "started" | "close"; readonly conclusion: string | null },
    reason: string,
    now: Date,
  ): Promise<void>;
  /** Adds runner subnets; known ones are kept as they are. */
  addSubnets(subnets: readonly Subnet[]): Promise<void>;
  /** Leases a free subnet to a runner (zones in preference order); the same runner gets the same lease. */
  leaseSubnet(
    runnerRowId: number,
    zones: readonly string[],
    now: Date,
  ): Promise<Subnet | undefined>;
  /** Returns a runner's subnet lease; a no-op when it holds none. */
  releaseSubnet(runnerRowId: number): Promise<void>;
  /** Every runner subnet, leased or free. */
  listSubnets(): Promise<LedgerSubnet[]>;
  /** Forgets a subnet no runner holds, so none can lease it; false if one does. */
  removeSubnet(subnetId: string): Promise<boolean>;
  /** Live VMs whose job has ended or that serve no job, oldest first. */
  runnersToReap(limit: number, now: Date): Promise<ReapTarget[]>;
  /** Marks VMs whose termination was asked for. */
  markTerminating(runnerRowIds: readonly number[], now: Date): Promise<void>;
  /** Keeps VMs whose runner GitHub would not deregister (busy) out of `runnersToReap` until `until`. */
  deferDeregistration(runnerRowIds: readonly number[], until: Date): Promise<void>;
  /** Ends the runner rows of terminated VMs, returns their subnets, writes usage; answers how many were new. */
  recordTerminated(vms: readonly TerminatedVm[], prices: UsagePrices): Promise<number>;
  /**
   * Usage of VMs launched in the query's days, grouped, costliest first. A VM that ran no
   * job counts toward the repository it was launched for (its waste); one bound to no job
   * counts under "".
   */
  usageReport(query: UsageQuery): Promise<UsageRow[]>;
  /** Jobs with their latest VM, most recently recorded first. */
  listJobs(filter: JobFilter, now: Date): Promise<JobListing[]>;
  /** Live jobs, VMs and subnets, counted. */
  fleetCounts(): Promise<FleetCounts>;
  /** Queue latency per hour of the jobs started since `since`. */
  queueLatency(since: Date): Promise<LatencyPoint[]>;
  /** Runners, queued jobs without one, leases and installations, read together for a reconcile pass. */
  reconcileView(installationsSince: Date): Promise<ReconcileView>;
  /** Stops launching a job (its launches keep failing, or it had its VMs), recording why. */
  giveUpJob(jobId: number, reason: GiveUpReason, words: string, now: Date): Promise<void>;
  /** Queued (or waiting) jobs recorded before `before`, by job ID after `afterJobId`, to ask GitHub about. */
  queuedJobsToCheck(before: Date, afterJobId: number, limit: number): Promise<JobToCheck[]>;
  /** Completes a job GitHub says has ended; false if it already had. */
  closeJob(jobId: number, conclusion: string | null, now: Date): Promise<boolean>;
  /** Runs `work` only if no other replica is running the same task now; one at a time across replicas. */
  asLeader<T>(task: string, work: () => Promise<T>): Promise<Leadership<T>>;
  /** Resolves when the database answers a query; rejects with LedgerError otherwise. */
  ping(): Promise<void>;
  /** Closes the connections (or the embedded database). */
  close(): Promise<void>;
}
