import { afterEach, describe, expect, it } from "vitest";
import type { LaunchRequest, VmState } from "../../src/cloud/cloud.js";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { CapacityError, CloudError } from "../../src/errors.js";
import { type SimEc2, type SimEc2Options, startSimEc2 } from "../../src/sim/ec2/sim-ec2.js";
import { testEc2Client } from "./ec2-test-client.js";

const JIT = "#!/bin/bash\n./run.sh --jitconfig eyJTHISISTHEJITCONFIG\n";

function request(overrides: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    pool: "linux-4cpu",
    jobId: 1001,
    runnerName: "mayfly-1001-a",
    image: "ami-0123456789abcdef0",
    instanceType: "c7i.xlarge",
    market: "on-demand",
    subnetId: "subnet-0aaa",
    diskGiB: 40,
    userData: JIT,
    ...overrides,
  };
}

let sim: SimEc2 | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function setUp(options: SimEc2Options = {}, maxAttempts = 3, pageSize?: number) {
  sim = await startSimEc2({ subnets: { "subnet-0aaa": "eu-west-1b" }, ...options });
  const cloud = new Ec2Cloud({
    client: testEc2Client(sim.url, maxAttempts),
    fleet: "test",
    network: { vpcId: "vpc-0511", egress: "nat" },
    pageSize,
  });
  return { sim, cloud };
}

async function all(cloud: Ec2Cloud): Promise<VmState[]> {
  const out: VmState[] = [];
  for await (const vm of cloud.listOurs()) out.push(vm);
  return out;
}

describe("Ec2Cloud.launch", () => {
  it("starts one hardened, tagged, self-terminating VM in one request", async () => {
    const { sim, cloud } = await setUp();
    const launched = await cloud.launch(request(), "job-1001-attempt-1");

    expect(sim.calls("RunInstances")).toBe(1);
    const [vm] = sim.instances();
    const tags = {
      "mayfly:fleet": "test",
      "mayfly:pool": "linux-4cpu",
      "mayfly:job": "1001",
      "mayfly:runner": "mayfly-1001-a",
    };
    expect(vm).toMatchObject({
      instanceId: launched.instanceId,
      clientToken: "job-1001-attempt-1",
      imageId: "ami-0123456789abcdef0",
      instanceType: "c7i.xlarge",
      subnetId: "subnet-0aaa",
      market: "on-demand",
      spotOptions: {},
      shutdownBehavior: "terminate",
      metadataOptions: {
        HttpTokens: "required",
        HttpPutResponseHopLimit: "1",
        HttpEndpoint: "enabled",
      },
      blockDevices: [
        {
          DeviceName: "/dev/sda1",
          "Ebs.VolumeSize": "40",
          "Ebs.VolumeType": "gp3",
          "Ebs.Encrypted": "true",
          "Ebs.DeleteOnTermination": "true",
        },
      ],
      tags,
      volumeTags: tags,
      userDataBytes: Buffer.byteLength(JIT),
    });
    expect(launched).toMatchObject({
      instanceType: "c7i.xlarge",
      market: "on-demand",
      availabilityZone: "eu-west-1b",
    });
    expect(launched.launchedAt).toBeInstanceOf(Date);
  });

  it("asks for a one-time spot VM that terminates when interrupted", async () => {
    const { sim, cloud } = await setUp();
    await cloud.launch(request({ market: "spot" }), "t-spot");
    expect(sim.instances()[0]).toMatchObject({
      market: "spot",
      spotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate" },
    });
  });

  it("never starts two VMs for the same token", async () => {
    const { sim, cloud } = await setUp();
    const first = await cloud.launch(request(), "same-token");
    const second = await cloud.launch(request(), "same-token");
    expect(second.instanceId).toBe(first.instanceId);
    expect(sim.calls("RunInstances")).toBe(2);
    expect(sim.instances()).toHaveLength(1);
  });

  it("lets EC2 resolve an ssm: image at launch", async () => {
    const { sim, cloud } = await setUp();
    await cloud.launch(request({ image: "ssm:/mayfly/runner-ami" }), "t-ssm");
    expect(sim.instances()[0]?.imageId).toBe("resolve:ssm:/mayfly/runner-ami");
  });

  it.each([
    ["InsufficientInstanceCapacity", "capacity"],
    ["Unsupported", "zone-unsupported"],
    ["MaxSpotInstanceCountExceeded", "spot-limit"],
  ] as const)("reports %s as a %s failure", async (code, failure) => {
    const { sim, cloud } = await setUp({}, 2);
    sim.setFault({ code, instanceType: "c7i.xlarge", availabilityZone: "eu-west-1b" });
    const error = await cloud.launch(request({ market: "spot" }), "t").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityError);
    expect((error as CapacityError).failure).toBe(failure);
    expect((error as Error).message).toContain(code);
    expect(sim.instances()).toHaveLength(0);
    // EC2 answers InsufficientInstanceCapacity with a 500, which the SDK retries.
    expect(sim.calls("RunInstances")).toBeLessThanOrEqual(2);
    // Another type in the same zone is not affected.
    await expect(
      cloud.launch(request({ instanceType: "m7i.xlarge" }), "t2"),
    ).resolves.toBeDefined();
  });

  it("reports a bad image as fatal, without the user data", async () => {
    const { cloud } = await setUp();
    const error = await cloud.launch(request({ image: "ami-nope" }), "t").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudError);
    expect(error).not.toBeInstanceOf(CapacityError);
    expect((error as Error).message).toContain("InvalidAMIID.Malformed");
    expect((error as Error).message).not.toContain("JITCONFIG");
  });

  it("reports user data over 16 KB as fatal, without echoing it", async () => {
    const { sim, cloud } = await setUp();
    const big = `${"x".repeat(16 * 1024)}JITCONFIG`;
    const error = await cloud.launch(request({ userData: big }), "t").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudError);
    expect((error as Error).message).toContain("InvalidParameterValue");
    expect((error as Error).message).not.toContain("JITCONFIG");
    expect(JSON.stringify(error)).not.toContain("JITCONFIG");
    expect(sim.instances()).toHaveLength(0);
  });

  it("rides out throttling: the SDK retries and every launch lands once", async () => {
    const { sim, cloud } = await setUp(
      { throttle: { RunInstances: { capacity: 1, refillPerSecond: 4 } } },
      6,
    );
    for (const n of [1, 2, 3]) await cloud.launch(request({ jobId: n }), `t-${n}`);
    expect(sim.instances()).toHaveLength(3);
    const calls = sim.calls("RunInstances");
    expect(calls).toBeGreaterThan(3); // some were throttled
    expect(calls).toBeLessThanOrEqual(3 * 6);
  });
});

describe("Ec2Cloud.terminate", () => {
  it("ends 2500 VMs in three calls", async () => {
    const { sim, cloud } = await setUp();
    const ids = sim.seed(2500, { "mayfly:fleet": "test" }).map((i) => i.instanceId);
    await cloud.terminate(ids);
    expect(sim.calls("TerminateInstances")).toBe(3);
    expect(ids.every((id) => sim.statusOf(id) === "terminated")).toBe(true);
  });

  it("counts VMs already gone as ended", async () => {
    const { sim, cloud } = await setUp({ shuttingDownMs: 60_000 });
    const [done, live] = sim.seed(2, { "mayfly:fleet": "test" }).map((i) => i.instanceId);
    await cloud.terminate([done as string]);
    await cloud.terminate([
      done as string,
      live as string,
      "i-0deadbeef0000001",
      "i-0deadbeef0000002",
    ]);
    expect(sim.statusOf(live as string)).toBe("shutting-down");
    // One refused batch naming the unknown IDs, then the batch without them.
    expect(sim.calls("TerminateInstances")).toBe(3);
    await expect(cloud.terminate(["i-0deadbeef0000003"])).resolves.toBeUndefined();
  });

  it("reports other failures", async () => {
    const { cloud } = await setUp(
      { throttle: { TerminateInstances: { capacity: 0, refillPerSecond: 0 } } },
      1,
    );
    await expect(cloud.terminate(["i-00000000000000001"])).rejects.toThrow(/RequestLimitExceeded/);
  });
});

describe("Ec2Cloud.listOurs", () => {
  it("pages through the fleet's VMs and nobody else's", async () => {
    const { sim, cloud } = await setUp({}, 3, 10);
    sim.seed(25, {
      "mayfly:fleet": "test",
      "mayfly:pool": "gpu",
      "mayfly:job": "42",
      "mayfly:runner": "mayfly-42",
    });
    sim.seed(5, { "mayfly:fleet": "other" });
    const vms = await all(cloud);
    expect(vms).toHaveLength(25);
    expect(sim.calls("DescribeInstances")).toBe(3);
    expect(vms[0]).toMatchObject({
      status: "running",
      pool: "gpu",
      jobId: 42,
      runnerName: "mayfly-42",
      stateReason: null,
    });
  });

  it("shows a spot interruption as the state reason", async () => {
    const { sim, cloud } = await setUp({ shuttingDownMs: 60_000 });
    const { instanceId } = await cloud.launch(request({ market: "spot" }), "t");
    sim.interruptSpot(instanceId);
    const [vm] = await all(cloud);
    expect(vm).toMatchObject({ instanceId, status: "shutting-down", jobId: 1001 });
    expect(vm?.stateReason).toContain("Server.SpotInstanceTermination");
  });
});
