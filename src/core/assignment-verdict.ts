/**
 * What the assignment endpoint answers a VM whose identity document was verified
 * (DESIGN.md, "The assignment endpoint"): a pure decision over the identity it proved, the
 * fleet's account and Region, and the ledger's row for the instance.
 */

/** A VM of an unknown instance may ask before its launch is recorded, for this long. */
export const UNRECORDED_LAUNCH_MS = 5 * 60_000;
/** A lost 200 is answered again for this long, unless the runner has started meanwhile. */
export const REPEAT_ANSWER_MS = 60_000;
/** How far EC2's launch time may lie from the document's `pendingTime`. */
export const LAUNCH_TIME_TOLERANCE_MS = 5 * 60_000;
/** Retry-After of a 204 for a launch not yet recorded. */
export const UNRECORDED_RETRY_AFTER_S = 2;

export interface AssignmentFacts {
  /** What the verified identity document proves. */
  readonly identity: {
    readonly accountId: string;
    readonly region: string;
    readonly instanceId: string;
    readonly pendingTime: Date;
  };
  /** The fleet's AWS account (undefined: not known, not checked) and Region. */
  readonly fleet: { readonly accountId: string | undefined; readonly region: string };
  /** The ledger's runner row for the instance, or undefined when it has none. */
  readonly vm:
    | {
        readonly state: "launching" | "running" | "terminating" | "terminated";
        /** EC2's launch time, as recorded from RunInstances' answer. */
        readonly launchedAt: Date | null;
        /** When the first 200 went out, or null before. */
        readonly assignedAt: Date | null;
        /** When GitHub first showed its runner online or running a job, or null before. */
        readonly runnerStartedAt: Date | null;
      }
    | undefined;
  readonly now: Date;
}

/** Why a VM is refused (403) or told to power off (410): the metric's `reason` label. */
export type RefusalReason =
  | "other-account"
  | "other-region"
  | "unknown-instance"
  | "launch-time-mismatch"
  | "runner-started"
  | "answered-long-ago"
  | "retired";

export type AssignmentVerdict =
  /** First ask of a launched VM: register its JIT runner now and answer 200. */
  | { readonly kind: "register" }
  /** Asked again after a 200 that may have been lost: the same answer. */
  | { readonly kind: "repeat" }
  /** 204 with Retry-After: nothing for it yet. */
  | { readonly kind: "wait"; readonly retryAfterSeconds: number }
  /** 403: not a VM of this fleet. */
  | { readonly kind: "refuse"; readonly reason: RefusalReason }
  /** 410: its assignment is spent or it was retired; the VM powers off. */
  | { readonly kind: "gone"; readonly reason: RefusalReason };

export function assignmentVerdict(facts: AssignmentFacts): AssignmentVerdict {
  const { identity, fleet, vm, now } = facts;
  if (fleet.accountId !== undefined && identity.accountId !== fleet.accountId)
    return { kind: "refuse", reason: "other-account" };
  if (identity.region !== fleet.region) return { kind: "refuse", reason: "other-region" };
  if (vm === undefined) {
    // It boots while RunInstances' answer is on its way to the ledger.
    const young = now.getTime() - identity.pendingTime.getTime() <= UNRECORDED_LAUNCH_MS;
    return young
      ? { kind: "wait", retryAfterSeconds: UNRECORDED_RETRY_AFTER_S }
      : { kind: "refuse", reason: "unknown-instance" };
  }
  if (
    vm.launchedAt !== null &&
    Math.abs(vm.launchedAt.getTime() - identity.pendingTime.getTime()) > LAUNCH_TIME_TOLERANCE_MS
  )
    return { kind: "refuse", reason: "launch-time-mismatch" };
  if (vm.state === "terminating" || vm.state === "terminated")
    return { kind: "gone", reason: "retired" };
  if (vm.runnerStartedAt !== null) return { kind: "gone", reason: "runner-started" };
  if (vm.assignedAt === null) return { kind: "register" };
  return now.getTime() - vm.assignedAt.getTime() <= REPEAT_ANSWER_MS
    ? { kind: "repeat" }
    : { kind: "gone", reason: "answered-long-ago" };
}
