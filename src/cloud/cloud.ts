import type { Secret } from "../config/secret.js";
import type { Market } from "../core/launch-attempts.js";

/** One runner VM to start. */
export interface LaunchRequest {
  readonly pool: string;
  readonly jobId: number;
  readonly runnerName: string;
  /** AMI ID (an `ssm:` image is resolved by the adapter). */
  readonly image: string;
  readonly instanceType: string;
  readonly market: Market;
  readonly subnetId: string;
  readonly diskGiB: number;
  /** Holds the runner's JIT config: never logged, never stored. */
  readonly userData: Secret;
}

/** A VM the cloud started. */
export interface LaunchedInstance {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly market: Market;
  readonly availabilityZone: string;
  readonly launchedAt: Date;
}

export type VmStatus =
  | "pending"
  | "running"
  | "shutting-down"
  | "terminated"
  | "stopping"
  | "stopped";

/** A VM of ours as the cloud sees it. */
export interface VmState {
  readonly instanceId: string;
  readonly status: VmStatus;
  readonly pool: string | null;
  readonly jobId: number | null;
  readonly runnerName: string | null;
  readonly launchedAt: Date;
  /** The cloud's reason for the last state change, e.g. a spot interruption. */
  readonly stateReason: string | null;
}

/** The cloud port, in our words. Every VM it starts carries the fleet's tag. */
export interface Cloud {
  /** Starts one runner VM; the same token never starts two. */
  launch(req: LaunchRequest, idempotencyToken: string): Promise<LaunchedInstance>;
  /** Ends VMs, many per call; IDs already gone count as ended. */
  terminate(instanceIds: readonly string[]): Promise<void>;
  /** Every VM carrying this fleet's tag, whatever its state. */
  listOurs(): AsyncIterable<VmState>;
}
