import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Ec2Cloud } from "../../../src/cloud/ec2/ec2-cloud.js";
import { renderUserData } from "../../../src/fleet/user-data.js";
import {
  type SimWorld,
  startSimWorld,
  type WorldEc2,
} from "../../../src/sim/world/start-sim-world.js";
import { testEc2Client } from "../../cloud/ec2-test-client.js";
import { adapterFor } from "../../github/adapter.js";
import {
  createTestVpc,
  type MotoServer,
  motoServerFor,
  startMotoServer,
  type TestVpc,
} from "../../support/moto-server.js";
import { SECRET, startReceiver } from "./world-harness.js";

/** The world playing runner VMs that live in moto_server, found by polling, not by a hook. */
const motoBin = motoServerFor("the world on an external EC2 (sim-world-external-ec2.test.ts)");

let moto: MotoServer;
let client: EC2Client;
let vpc: TestVpc;
let world: SimWorld<WorldEc2> | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

beforeAll(async () => {
  if (!motoBin) return;
  moto = await startMotoServer(motoBin);
  client = testEc2Client(moto.url);
}, 30_000);
afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});
afterEach(async () => {
  await world?.stop();
  await receiver?.stop();
  world = undefined;
  receiver = undefined;
});

async function setUp() {
  await moto.reset();
  vpc = await createTestVpc(client);
  world = await startSimWorld({ ec2Endpoint: moto.url, fleet: "test", bootMs: 30, pollMs: 50 });
  receiver = await startReceiver(SECRET, world.identityCertificatePem);
  world.connect({ url: receiver.url, secret: SECRET });
  const cloud = new Ec2Cloud({
    client,
    fleet: "test",
    network: { vpcId: vpc.vpcId, egress: "nat" },
  });
  const asking = renderUserData(receiver.runnerEndpoint, {
    idleTimeout: 600,
    bootTimeout: 60,
    maxLifetime: 3600,
  });
  const launch = (jobId: number, userData = asking) =>
    cloud.launch(
      {
        pool: "linux",
        jobId,
        runnerName: `mayfly-${jobId}-a`,
        image: vpc.imageId,
        instanceType: "c7i.large",
        market: "on-demand",
        subnetId: vpc.subnetId,
        diskGiB: 20,
        userData,
      },
      `job-${jobId}`,
    );
  return { world, receiver, launch };
}

async function stateInMoto(instanceId: string): Promise<string | undefined> {
  const answer = await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return answer.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!motoBin)("startSimWorld with an external EC2 (moto_server)", () => {
  it("runs the job on the VM found in moto, then terminates that VM there", async () => {
    const { world, receiver, launch } = await setUp();
    const jobId = await world.queueJob({
      repository: "example-org/web",
      labels: ["self-hosted", "linux"],
      durationMs: 50,
    });
    const { github } = adapterFor(world.github);
    const jit = await github.generateJitConfig({
      installationId: 77,
      org: "example-org",
      name: `mayfly-${jobId}-a`,
      runnerGroupId: 1,
      labels: ["self-hosted", "linux"],
    });
    const vm = await launch(jobId);
    receiver.assignments.set(vm.instanceId, jit.jitConfig.reveal());

    await until(() => world.jobs()[0]?.conclusion === "success");
    await until(async () => (await stateInMoto(vm.instanceId)) === "terminated");
    expect(world.stats()).toMatchObject({ vmsBooted: 1, jobsRun: 1 });
    expect(world.ec2.instances()).toMatchObject([
      { instanceId: vm.instanceId, subnetId: vpc.subnetId },
    ]);
    await until(() => world.ec2.statusOf(vm.instanceId) === "terminated");
  });

  it("ends a VM whose user data names no assignment endpoint", async () => {
    const { world, launch } = await setUp();
    const vm = await launch(4242, "#!/bin/bash\necho no runner here\n");

    await until(async () => (await stateInMoto(vm.instanceId)) === "terminated");
    expect(world.stats().vmsBooted).toBe(0);
  });
});
