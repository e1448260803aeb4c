import type { SimInstance } from "../ec2/sim-instance.js";

/** A runner VM as the world sees it, whichever EC2 it runs in. */
export type WorldVm = Pick<
  SimInstance,
  "instanceId" | "subnetId" | "tags" | "launchedAtMs" | "terminatedAtMs"
>;

/** What the world needs of an EC2: the in-process sim satisfies it, and so does an external endpoint. */
export interface WorldEc2 {
  /** The endpoint to hand to `EC2Client`. */
  readonly url: string;
  /** Every VM seen so far, terminated ones included. */
  instances(): WorldVm[];
  /** The VM's status as last known ("pending", "running", ..., "terminated"). */
  statusOf(instanceId: string): string | undefined;
  /** Ends a VM from inside, as the runner's `shutdown -h now` does. */
  powerOff(instanceId: string): void;
  stop(): Promise<void>;
}

/** A time as an identity document writes it: ISO 8601 in UTC, whole seconds. */
export function wholeSeconds(at: Date | number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");
}
