import {
  DescribeInstancesCommand,
  type EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterEach, describe, expect, it } from "vitest";
import { type SimEc2, type SimEc2Options, startSimEc2 } from "../../../src/sim/ec2/sim-ec2.js";
import { testEc2Client } from "../../cloud/ec2-test-client.js";

let sim: SimEc2 | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function setUp(options: SimEc2Options = {}): Promise<{ sim: SimEc2; ec2: EC2Client }> {
  sim = await startSimEc2(options);
  return { sim, ec2: testEc2Client(sim.url, 1) };
}

/** A raw Query API call, to see the wire format the SDK hides. */
async function post(url: string, params: Record<string, string>) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ Version: "2016-11-15", ...params }),
  });
  return { status: res.status, body: await res.text() };
}

const RUN = { ImageId: "ami-0123456789abcdef0", MinCount: 1, MaxCount: 1, SubnetId: "subnet-1" };

describe("simulated EC2", () => {
  it("answers errors in EC2's XML shape with AWS's status codes", async () => {
    const { sim } = await setUp({
      throttle: { DescribeInstances: { capacity: 0, refillPerSecond: 0 } },
    });
    const notFound = await post(sim.url, {
      Action: "TerminateInstances",
      "InstanceId.1": "i-0abc",
    });
    expect(notFound.status).toBe(400);
    expect(notFound.body).toMatch(
      /<Response><Errors><Error><Code>InvalidInstanceID\.NotFound<\/Code><Message>The instance ID 'i-0abc' does not exist<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]+<\/RequestID><\/Response>/,
    );
    const throttled = await post(sim.url, { Action: "DescribeInstances" });
    expect(throttled.status).toBe(503);
    expect(throttled.body).toContain("<Code>RequestLimitExceeded</Code>");
    sim.setFault({ code: "InsufficientInstanceCapacity" });
    const full = await post(sim.url, {
      Action: "RunInstances",
      ImageId: "ami-0123456789abcdef0",
      MinCount: "1",
      MaxCount: "1",
    });
    expect(full.status).toBe(500);
    expect(sim.calls()).toBe(3);
    expect(sim.calls("RunInstances")).toBe(1);
  });

  it("moves instances pending → running → shutting-down → terminated with time", async () => {
    let now = Date.parse("2026-11-23T10:00:00Z");
    const { sim, ec2 } = await setUp({ now: () => now, pendingMs: 5_000, shuttingDownMs: 3_000 });
    const run = await ec2.send(new RunInstancesCommand(RUN));
    const id = run.Instances?.[0]?.InstanceId as string;
    expect(run.Instances?.[0]?.State?.Name).toBe("pending");
    now += 5_000;
    expect(sim.statusOf(id)).toBe("running");
    const term = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    expect(term.TerminatingInstances?.[0]?.CurrentState?.Name).toBe("shutting-down");
    expect(term.TerminatingInstances?.[0]?.PreviousState?.Name).toBe("running");
    now += 3_000;
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const instance = described.Reservations?.[0]?.Instances?.[0];
    expect(instance?.State).toEqual({ Code: 48, Name: "terminated" });
    expect(instance?.StateReason?.Code).toBe("Client.UserInitiatedShutdown");
    // Terminating a terminated instance is fine.
    await expect(
      ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })),
    ).resolves.toBeDefined();
  });

  it("filters by tag and state, and pages with NextToken", async () => {
    const { sim, ec2 } = await setUp({ shuttingDownMs: 60_000 });
    const ours = sim.seed(7, { team: "a" });
    sim.seed(3, { team: "b" });
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [ours[0]?.instanceId as string] }));
    const filters = [
      { Name: "tag:team", Values: ["a"] },
      { Name: "instance-state-name", Values: ["running"] },
    ];
    const first = await ec2.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: 5 }));
    expect(first.Reservations).toHaveLength(5);
    expect(first.NextToken).toBeDefined();
    const second = await ec2.send(
      new DescribeInstancesCommand({ Filters: filters, MaxResults: 5, NextToken: first.NextToken }),
    );
    expect(second.Reservations).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
  });

  it("takes exactly 16 KB of raw user data and refuses one byte more", async () => {
    const { sim, ec2 } = await setUp();
    const b64 = (n: number) => Buffer.alloc(n, 0x61).toString("base64");
    await ec2.send(new RunInstancesCommand({ ...RUN, UserData: b64(16_384) }));
    const error = await ec2
      .send(new RunInstancesCommand({ ...RUN, UserData: b64(16_385) }))
      .catch((e: unknown) => e as Error);
    expect((error as Error).name).toBe("InvalidParameterValue");
    expect((error as Error).message).not.toContain("aaaa");
    expect(sim.instances().map((i) => i.userDataBytes)).toEqual([16_384]);
  });

  it("refuses more than 1000 IDs per TerminateInstances and pages outside 5..1000", async () => {
    const { sim, ec2 } = await setUp();
    const ids = sim.seed(1001, {}).map((i) => i.instanceId);
    await expect(ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }))).rejects.toThrow(
      /Up to 1000/,
    );
    expect(sim.statusOf(ids[0] as string)).toBe("running");
    await expect(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 }))).rejects.toThrow(
      /MaxResults/,
    );
  });

  it("returns the first instance for a repeated ClientToken", async () => {
    const { sim, ec2 } = await setUp();
    const a = await ec2.send(new RunInstancesCommand({ ...RUN, ClientToken: "tok" }));
    const b = await ec2.send(new RunInstancesCommand({ ...RUN, ClientToken: "tok" }));
    const c = await ec2.send(new RunInstancesCommand({ ...RUN, ClientToken: "other" }));
    expect(b.Instances?.[0]?.InstanceId).toBe(a.Instances?.[0]?.InstanceId);
    expect(c.Instances?.[0]?.InstanceId).not.toBe(a.Instances?.[0]?.InstanceId);
    expect(sim.instances()).toHaveLength(2);
  });

  it("refuses a repeated ClientToken with other parameters, and tokens over 64 characters", async () => {
    const { sim, ec2 } = await setUp();
    await ec2.send(new RunInstancesCommand({ ...RUN, ClientToken: "tok" }));
    await expect(
      ec2.send(new RunInstancesCommand({ ...RUN, InstanceType: "c7i.large", ClientToken: "tok" })),
    ).rejects.toMatchObject({ name: "IdempotentParameterMismatch" });
    await expect(
      ec2.send(new RunInstancesCommand({ ...RUN, ClientToken: "t".repeat(65) })),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await ec2.send(new RunInstancesCommand({ ...RUN, ClientToken: "t".repeat(64) }));
    expect(sim.instances()).toHaveLength(2);
  });

  it("refuses a launch template it does not have, by name and by ID", async () => {
    const { sim, ec2 } = await setUp({ launchTemplates: ["mayfly-runner"] });
    await expect(
      ec2.send(
        new RunInstancesCommand({ ...RUN, LaunchTemplate: { LaunchTemplateName: "someone-else" } }),
      ),
    ).rejects.toMatchObject({ name: "InvalidLaunchTemplateName.NotFoundException" });
    await expect(
      ec2.send(
        new RunInstancesCommand({
          ...RUN,
          LaunchTemplate: { LaunchTemplateId: "lt-0123456789abcdef0" },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidLaunchTemplateId.NotFound" });
    await ec2.send(
      new RunInstancesCommand({ ...RUN, LaunchTemplate: { LaunchTemplateName: "mayfly-runner" } }),
    );
    expect(sim.instances()).toHaveLength(1);
  });

  it("refuses a DescribeInstances filter it does not know instead of matching nothing", async () => {
    const { ec2 } = await setUp();
    await ec2.send(new RunInstancesCommand(RUN));
    await expect(
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag-key", Values: ["x"] }] })),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
    const known = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }],
      }),
    );
    expect(known.Reservations).toHaveLength(1);
  });

  it("places a subnet in its mapped zone, or a stable derived one", async () => {
    const { ec2 } = await setUp({ subnets: { "subnet-1": "eu-west-1c" } });
    const mapped = await ec2.send(new RunInstancesCommand(RUN));
    expect(mapped.Instances?.[0]?.Placement?.AvailabilityZone).toBe("eu-west-1c");
    const zones = await Promise.all(
      [1, 2].map(() => ec2.send(new RunInstancesCommand({ ...RUN, SubnetId: "subnet-zz" }))),
    );
    const [z1, z2] = zones.map((z) => z.Instances?.[0]?.Placement?.AvailabilityZone);
    expect(z1).toMatch(/^eu-west-1[abc]$/);
    expect(z2).toBe(z1);
  });

  it("refuses unknown subnets when strict", async () => {
    const { ec2 } = await setUp({ subnets: { "subnet-1": "eu-west-1a" }, strictSubnets: true });
    await expect(
      ec2.send(new RunInstancesCommand({ ...RUN, SubnetId: "subnet-2" })),
    ).rejects.toThrow(/subnet ID 'subnet-2' does not exist/);
  });

  it("adds latency to every answer", async () => {
    const { ec2 } = await setUp({ latencyMs: 150 });
    const started = performance.now();
    await ec2.send(new DescribeInstancesCommand({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});
