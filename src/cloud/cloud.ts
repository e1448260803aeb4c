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
  /** The image's root device, which the disk size and encryption apply to (default /dev/sda1). */
  readonly rootDevice?: string;
  /** The KMS key the root volume is encrypted with; absent: the account's EBS default key. */
  readonly volumeKmsKeyId?: string;
  /** The cloud-config the VM boots with: no secret (src/fleet/user-data.ts). */
  readonly userData: string;
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
  /** The subnet it runs in; null once the cloud no longer says. */
  readonly subnetId: string | null;
}

/** A runner subnet of ours as the cloud sees it. */
export interface CloudSubnet {
  readonly subnetId: string;
  readonly cidr: string;
  readonly availabilityZone: string;
  /** Whether the fleet's isolating network ACL (and route table, if one is set) is associated. */
  readonly isolated: boolean;
}

/** The cloud port, in our words. Every VM and subnet it creates carries the fleet's tag. */
export interface Cloud {
  /** Starts one runner VM; the same token never starts two. */
  launch(req: LaunchRequest, idempotencyToken: string): Promise<LaunchedInstance>;
  /** Ends VMs, many per call; IDs already gone count as ended. */
  terminate(instanceIds: readonly string[]): Promise<void>;
  /** Every VM carrying this fleet's tag, whatever its state. */
  listOurs(): AsyncIterable<VmState>;
  /** Every runner subnet carrying this fleet's tag. */
  listSubnets(): Promise<CloudSubnet[]>;
  /**
   * Creates one runner subnet, tagged, with the fleet's isolating network ACL. Rejects with
   * CloudConflictError when the CIDR overlaps a subnet that exists.
   */
  createSubnet(cidr: string, availabilityZone: string): Promise<CloudSubnet>;
  /** Gives a subnet of ours the fleet's network ACL (and route table); a no-op when it has them. */
  isolateSubnet(subnetId: string): Promise<void>;
  /** Deletes a runner subnet; one already gone counts as deleted. */
  deleteSubnet(subnetId: string): Promise<void>;
}
