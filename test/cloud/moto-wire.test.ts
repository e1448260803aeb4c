import { DescribeInstancesCommand, type EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import type { LaunchRequest, VmState } from "../../src/cloud/cloud.js";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { CapacityError, CloudError } from "../../src/errors.js";
import { motoBehindProxy, motoServerFor } from "../support/moto-server.js";
import { testEc2Client } from "./ec2-test-client.js";

/**
 * The real @aws-sdk/client-ec2 and Ec2Cloud against moto_server, an EC2 emulator we did not
 * write, through a proxy that records what was sent and injects EC2's error answers.
 */
const motoBin = motoServerFor("the EC2 wire tests (test/cloud/moto-wire.test.ts)");
const wire = motoBehindProxy(motoBin);

const FLEET = "wire";
const FLEET_TAGS = { "mayfly:fleet": FLEET, "mayfly:pool": "linux-4cpu", "mayfly:job": "1001" };

function cloudOf(client: EC2Client, pageSize?: number): Ec2Cloud {
  return new Ec2Cloud({
    client,
    fleet: FLEET,
    network: { vpcId: wire.vpc.vpcId, egress: "nat" },
    pageSize,
  });
}

function request(jobId = 1001, overrides: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    pool: "linux-4cpu",
    jobId,
    runnerName: `mayfly-${jobId}-a`,
    image: wire.vpc.imageId,
    instanceType: "c7i.xlarge",
    market: "on-demand",
    subnetId: wire.vpc.subnetId,
    diskGiB: 40,
    userData: "#!/bin/bash\necho wire\n",
    ...overrides,
  };
}

async function all(cloud: Ec2Cloud): Promise<VmState[]> {
  const out: VmState[] = [];
  for await (const vm of cloud.listOurs()) out.push(vm);
  return out;
}

describe.skipIf(!motoBin)("Ec2Cloud on the EC2 wire (moto_server)", () => {
  it("launches with ONE RunInstances carrying IMDSv2, self-termination, encryption and tags", async () => {
    const cloud = cloudOf(testEc2Client(wire.proxy.url));
    const launched = await cloud.launch(request(), "job-1001-attempt-1");

    expect(wire.proxy.calls("RunInstances")).toBe(1);
    const [sent] = wire.proxy.requests("RunInstances");
    // Asserted on the request: moto does not apply MetadataOptions nor dedupe ClientToken.
    expect(sent).toMatchObject({
      "MetadataOptions.HttpTokens": "required",
      "MetadataOptions.HttpPutResponseHopLimit": "1",
      InstanceInitiatedShutdownBehavior: "terminate",
      "BlockDeviceMapping.1.Ebs.Encrypted": "true",
      ClientToken: "job-1001-attempt-1",
      "TagSpecification.1.ResourceType": "instance",
      "TagSpecification.2.ResourceType": "volume",
    });
    for (const spec of [1, 2]) {
      expect(sent).toMatchObject({
        [`TagSpecification.${spec}.Tag.1.Key`]: "mayfly:fleet",
        [`TagSpecification.${spec}.Tag.1.Value`]: FLEET,
      });
    }

    const described = await testEc2Client(wire.moto.url).send(
      new DescribeInstancesCommand({ InstanceIds: [launched.instanceId] }),
    );
    const instance = described.Reservations?.[0]?.Instances?.[0];
    const tags = Object.fromEntries((instance?.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ ...FLEET_TAGS, "mayfly:runner": "mayfly-1001-a" });
    expect(instance?.SubnetId).toBe(wire.vpc.subnetId);
    expect(await all(cloud)).toEqual([
      expect.objectContaining({ instanceId: launched.instanceId, pool: "linux-4cpu", jobId: 1001 }),
    ]);
  });

  it.each([
    ["InsufficientInstanceCapacity", "capacity"],
    ["Unsupported", "zone-unsupported"],
    ["MaxSpotInstanceCountExceeded", "spot-limit"],
  ] as const)("surfaces %s as a CapacityError (%s), asked once", async (code, failure) => {
    wire.proxy.fail({ action: "RunInstances", code });
    const cloud = cloudOf(testEc2Client(wire.proxy.url));

    const error = await cloud.launch(request(), "t-1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityError);
    expect(error).toMatchObject({ failure, message: expect.stringContaining(code) });
    expect(wire.proxy.calls("RunInstances")).toBe(1);
  });

  it.each(["InvalidAMIID.NotFound", "UnauthorizedOperation"])(
    "surfaces %s as a CloudError naming the code, not retried",
    async (code) => {
      wire.proxy.fail({ action: "RunInstances", code });
      const cloud = cloudOf(testEc2Client(wire.proxy.url, 5));

      const error = await cloud.launch(request(), "t-1").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CloudError);
      expect(error).not.toBeInstanceOf(CapacityError);
      expect((error as Error).message).toContain(code);
      expect(wire.proxy.calls("RunInstances")).toBe(1);
    },
  );

  it("completes a burst of 40 launches when 30% of RunInstances calls are throttled", async () => {
    const maxAttempts = 8;
    wire.proxy.fail({
      action: "RunInstances",
      code: "RequestLimitExceeded",
      fraction: 0.3,
      seed: 42,
    });
    const cloud = cloudOf(testEc2Client(wire.proxy.url, maxAttempts));

    const launches = Array.from({ length: 40 }, (_, i) =>
      cloud.launch(request(2000 + i), `job-${2000 + i}`),
    );
    const launched = await Promise.all(launches);

    expect(new Set(launched.map((vm) => vm.instanceId)).size).toBe(40);
    const calls = wire.proxy.calls("RunInstances");
    expect(calls).toBeGreaterThan(40); // some were throttled and sent again
    expect(calls).toBeLessThanOrEqual(40 * maxAttempts);
    expect(await all(cloud)).toHaveLength(40);
  }, 120_000);

  it("terminates 150 instances in one call, and again without error once they are gone", async () => {
    const run = await testEc2Client(wire.moto.url).send(
      new RunInstancesCommand({
        ImageId: wire.vpc.imageId,
        InstanceType: "t3.micro",
        MinCount: 150,
        MaxCount: 150,
        SubnetId: wire.vpc.subnetId,
      }),
    );
    const ids = (run.Instances ?? []).map((i) => i.InstanceId ?? "");
    expect(ids).toHaveLength(150);
    const cloud = cloudOf(testEc2Client(wire.proxy.url));

    await cloud.terminate(ids);
    expect(wire.proxy.calls("TerminateInstances")).toBe(1);

    await expect(cloud.terminate([...ids, "i-0123456789abcdef0"])).resolves.toBeUndefined();
    const states = await testEc2Client(wire.moto.url).send(
      new DescribeInstancesCommand({ InstanceIds: ids.slice(0, 5) }),
    );
    const names = states.Reservations?.flatMap((r) => r.Instances?.map((i) => i.State?.Name));
    expect(new Set(names)).toEqual(new Set(["terminated"]));
  });

  it("pages through every instance of the fleet, and only those, with a small page size", async () => {
    const direct = testEc2Client(wire.moto.url);
    // One reservation per launch: moto counts reservations, not instances, per page.
    for (let job = 1; job <= 12; job++) {
      await direct.send(
        new RunInstancesCommand({
          ImageId: wire.vpc.imageId,
          InstanceType: "t3.micro",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: wire.vpc.subnetId,
          TagSpecifications: [
            {
              ResourceType: "instance",
              Tags: [
                { Key: "mayfly:fleet", Value: job <= 11 ? FLEET : "another-fleet" },
                { Key: "mayfly:job", Value: String(job) },
              ],
            },
          ],
        }),
      );
    }
    const cloud = cloudOf(testEc2Client(wire.proxy.url), 5);

    const vms = await all(cloud);
    expect(vms.map((vm) => vm.jobId).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 11 }, (_, i) => i + 1),
    );
    expect(wire.proxy.calls("DescribeInstances")).toBe(3);
    expect(wire.proxy.requests("DescribeInstances")[0]).toMatchObject({ MaxResults: "5" });
  });
});
