import type { Instance } from "@aws-sdk/client-ec2";
import type { VmState, VmStatus } from "../cloud.js";
import { JOB_TAG, POOL_TAG, RUNNER_TAG } from "./run-instances-input.js";

const STATUSES: readonly VmStatus[] = [
  "pending",
  "running",
  "shutting-down",
  "terminated",
  "stopping",
  "stopped",
];

/** An EC2 instance in our words, read back from the tags we put on it at launch. */
export function vmStateOf(instance: Instance): VmState {
  const tag = (key: string) => instance.Tags?.find((t) => t.Key === key)?.Value ?? null;
  const job = Number(tag(JOB_TAG));
  const name = instance.State?.Name as VmStatus | undefined;
  // StateReason says why a VM ended (e.g. Server.SpotInstanceTermination); its message
  // already starts with the code. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StateReason.html
  const reason = instance.StateReason;
  return {
    instanceId: instance.InstanceId ?? "",
    status: name !== undefined && STATUSES.includes(name) ? name : "pending",
    pool: tag(POOL_TAG),
    jobId: tag(JOB_TAG) !== null && Number.isSafeInteger(job) ? job : null,
    runnerName: tag(RUNNER_TAG),
    launchedAt: instance.LaunchTime ?? new Date(0),
    stateReason: reason?.Message || reason?.Code || null,
    subnetId: instance.SubnetId ?? null,
  };
}
