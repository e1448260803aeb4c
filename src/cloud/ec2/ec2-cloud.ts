import {
  type EC2Client,
  paginateDescribeInstances,
  RunInstancesCommand,
  type RunInstancesCommandOutput,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CloudError } from "../../errors.js";
import type { Cloud, CloudSubnet, LaunchedInstance, LaunchRequest, VmState } from "../cloud.js";
import { cloudErrorOf, ec2ErrorCode } from "./ec2-errors.js";
import { Ec2Network, type Ec2NetworkConfig } from "./ec2-network.js";
import { FLEET_TAG, runInstancesInput } from "./run-instances-input.js";
import { vmStateOf } from "./vm-state-of.js";

export interface Ec2CloudOptions {
  /** Built in main.ts, with `retryMode: "adaptive"` so the SDK paces itself when throttled. */
  readonly client: EC2Client;
  readonly fleet: string;
  /** The VPC runner subnets are made in, and how they are isolated. */
  readonly network: Ec2NetworkConfig;
  /** Name of the launch template (Terraform's) runner VMs start from. */
  readonly launchTemplate?: string;
  /** DescribeInstances and DescribeSubnets page size, 5 to 1000. */
  readonly pageSize?: number;
  /** How often the fleet's own ACL is brought in step with the VPC's blocks; 10 min. */
  readonly aclSyncMs?: number;
  readonly now?: () => number;
}

// "You can specify up to 1000 instance IDs" per TerminateInstances call.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
const TERMINATE_BATCH = 1000;

/** The Cloud port on EC2: one RunInstances per VM, everything tagged with the fleet. */
export class Ec2Cloud implements Cloud {
  readonly #client: EC2Client;
  readonly #fleet: string;
  readonly #pageSize: number;
  readonly #launchTemplate: string | undefined;
  readonly #securityGroupIds: readonly string[] | undefined;
  readonly #network: Ec2Network;

  constructor(options: Ec2CloudOptions) {
    this.#client = options.client;
    this.#fleet = options.fleet;
    this.#pageSize = options.pageSize ?? 1000;
    this.#launchTemplate = options.launchTemplate;
    this.#securityGroupIds = options.network.securityGroupIds;
    this.#network = new Ec2Network(options);
  }

  /** Starts one runner VM; the same token never starts two. */
  async launch(req: LaunchRequest, idempotencyToken: string): Promise<LaunchedInstance> {
    const input = runInstancesInput(req, idempotencyToken, {
      fleet: this.#fleet,
      launchTemplate: this.#launchTemplate,
      securityGroupIds: this.#securityGroupIds,
    });
    let output: RunInstancesCommandOutput;
    try {
      output = await this.#client.send(new RunInstancesCommand(input));
    } catch (error) {
      throw cloudErrorOf(error, `launching ${req.instanceType} (${req.market}) in ${req.subnetId}`);
    }
    const instance = output.Instances?.[0];
    if (instance?.InstanceId === undefined) {
      throw new CloudError(`RunInstances answered without an instance for job ${req.jobId}`);
    }
    return {
      instanceId: instance.InstanceId,
      instanceType: instance.InstanceType ?? req.instanceType,
      market: req.market,
      availabilityZone: instance.Placement?.AvailabilityZone ?? "",
      launchedAt: instance.LaunchTime ?? new Date(),
    };
  }

  /** Ends VMs, many per call; IDs already gone count as ended. */
  async terminate(instanceIds: readonly string[]): Promise<void> {
    const ids = [...new Set(instanceIds)];
    for (let start = 0; start < ids.length; start += TERMINATE_BATCH) {
      await this.#terminateBatch(ids.slice(start, start + TERMINATE_BATCH));
    }
  }

  /** Every VM carrying this fleet's tag, whatever its state. */
  async *listOurs(): AsyncIterable<VmState> {
    const pages = paginateDescribeInstances(
      { client: this.#client, pageSize: this.#pageSize },
      { Filters: [{ Name: `tag:${FLEET_TAG}`, Values: [this.#fleet] }] },
    );
    try {
      for await (const page of pages) {
        for (const reservation of page.Reservations ?? []) {
          for (const instance of reservation.Instances ?? []) yield vmStateOf(instance);
        }
      }
    } catch (error) {
      throw cloudErrorOf(error, "listing the fleet's instances");
    }
  }

  /** Every runner subnet carrying this fleet's tag. */
  listSubnets(): Promise<CloudSubnet[]> {
    return this.#network.listSubnets();
  }

  /** Creates one runner subnet, tagged, with the fleet's isolating network ACL. */
  createSubnet(cidr: string, availabilityZone: string): Promise<CloudSubnet> {
    return this.#network.createSubnet(cidr, availabilityZone);
  }

  /** Gives a subnet of ours the fleet's network ACL (and route table); a no-op when it has them. */
  isolateSubnet(subnetId: string): Promise<void> {
    return this.#network.isolateSubnet(subnetId);
  }

  /** Deletes a runner subnet; one already gone counts as deleted. */
  deleteSubnet(subnetId: string): Promise<void> {
    return this.#network.deleteSubnet(subnetId);
  }

  /**
   * A batch naming an instance EC2 no longer knows fails whole, with the missing IDs in
   * the message; those count as ended, so the rest is sent again without them.
   */
  async #terminateBatch(ids: readonly string[]): Promise<void> {
    let remaining = ids;
    while (remaining.length > 0) {
      try {
        await this.#client.send(new TerminateInstancesCommand({ InstanceIds: [...remaining] }));
        return;
      } catch (error) {
        if (ec2ErrorCode(error) !== "InvalidInstanceID.NotFound") {
          throw cloudErrorOf(error, `terminating ${remaining.length} instances`);
        }
        const gone = new Set((error as Error).message.match(/i-[0-9a-f]+/g) ?? []);
        const left = remaining.filter((id) => !gone.has(id));
        // A message naming none of ours: fall back to one call per ID.
        if (left.length === remaining.length) return this.#terminateOneByOne(remaining);
        remaining = left;
      }
    }
  }

  async #terminateOneByOne(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      try {
        await this.#client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      } catch (error) {
        if (ec2ErrorCode(error) !== "InvalidInstanceID.NotFound") {
          throw cloudErrorOf(error, `terminating ${id}`);
        }
      }
    }
  }
}
