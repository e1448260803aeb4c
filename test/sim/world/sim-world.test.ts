import { afterEach, describe, expect, it, vi } from "vitest";
import { Ec2Cloud } from "../../../src/cloud/ec2/ec2-cloud.js";
import {
  type SimWorld,
  type SimWorldOptions,
  startSimWorld,
} from "../../../src/sim/world/start-sim-world.js";
import { testEc2Client } from "../../cloud/ec2-test-client.js";
import { SECRET, standInController, startReceiver } from "./world-harness.js";

const LABELS = ["self-hosted", "linux", "mayfly-small"];
const WAIT = { timeout: 5000, interval: 10 };

let world: SimWorld | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
afterEach(async () => {
  await world?.stop();
  await receiver?.stop();
  world = undefined;
  receiver = undefined;
});

async function setUp(options: SimWorldOptions = {}, secret = SECRET) {
  world = await startSimWorld({ bootMs: 30, subnets: { "subnet-0aaa": "eu-west-1b" }, ...options });
  receiver = await startReceiver(SECRET, world.identityCertificatePem);
  world.connect({ url: receiver.url, secret });
  return { world, receiver };
}

describe("startSimWorld: a job's whole life", () => {
  it("runs a queued job on the runner the controller launched, then ends the VM", async () => {
    const { world, receiver } = await setUp();
    const controller = standInController(world, receiver);
    const jobId = await world.queueJob({
      repository: "example-org/app",
      labels: LABELS,
      durationMs: 50,
    });

    await vi.waitFor(() => expect(world.jobs()[0]?.status).toBe("completed"), WAIT);
    await vi.waitFor(() => expect(receiver.received).toHaveLength(3), WAIT);
    expect(controller.errors).toEqual([]);
    const [launched] = controller.launched;
    expect(receiver.received.map((r) => [r.action, r.jobId, r.runnerName, r.conclusion])).toEqual([
      ["queued", jobId, null, null],
      ["in_progress", jobId, launched?.runnerName, null],
      ["completed", jobId, launched?.runnerName, "success"],
    ]);
    // Ephemeral: the registration is gone and the VM shut itself down.
    expect(world.github.runners()).toEqual([]);
    const vm = world.ec2.instances().find((i) => i.instanceId === launched?.instanceId);
    expect(world.ec2.statusOf(launched?.instanceId ?? "")).toBe("terminated");
    expect(vm?.stateReason?.code).toBe("Client.InstanceInitiatedShutdown");
    expect(world.stats()).toMatchObject({ vmsBooted: 1, jobsRun: 1, webhooksFailed: 0 });
  });

  it("fails a job whose VM is terminated while it runs, as GitHub fails a job whose runner is lost", async () => {
    const { world, receiver } = await setUp();
    const controller = standInController(world, receiver);
    await world.queueJob({ repository: "example-org/app", labels: LABELS, durationMs: 300 });
    await vi.waitFor(() => expect(world.jobs()[0]?.status).toBe("in_progress"), WAIT);
    const cloud = new Ec2Cloud({
      client: testEc2Client(world.ec2.url),
      fleet: "test",
      network: { vpcId: "vpc-0511", egress: "nat" },
    });
    await cloud.terminate(controller.launched.map((l) => l.instanceId));
    await vi.waitFor(() => expect(world.jobs()[0]?.status).toBe("completed"), WAIT);
    expect(world.jobs()[0]?.conclusion).toBe("failure");
  });

  it("gives the runner to the oldest matching job, not the one it was launched for", async () => {
    const { world, receiver } = await setUp();
    const first = await world.queueJob({
      repository: "example-org/app",
      labels: LABELS,
      durationMs: 50,
    });
    const controller = standInController(world, receiver);
    const second = await world.queueJob({
      repository: "example-org/app",
      labels: LABELS,
      durationMs: 50,
    });

    await vi.waitFor(
      () => expect(receiver.received.some((r) => r.action === "in_progress")).toBe(true),
      WAIT,
    );
    expect(controller.launched.map((l) => l.jobId)).toEqual([second]);
    const started = receiver.received.find((r) => r.action === "in_progress");
    expect(started?.jobId).toBe(first);
    expect(started?.runnerName).toBe(`mayfly-${second}-a`);
    await vi.waitFor(
      () => expect(world.jobs().find((j) => j.id === first)?.status).toBe("completed"),
      WAIT,
    );
    expect(world.jobs().find((j) => j.id === second)?.status).toBe("queued");
  });

  it("hands a newly queued job at once to an idle online runner that fits", async () => {
    const { world, receiver } = await setUp();
    const controller = standInController(world, receiver, () => false);
    await controller.launch(999, LABELS);
    await vi.waitFor(() => expect(world.github.runners()[0]?.status).toBe("online"), WAIT);
    const jobId = await world.queueJob({
      repository: "example-org/app",
      labels: ["Linux"],
      durationMs: 1000,
    });
    await vi.waitFor(() => expect(world.jobs()[0]?.status).toBe("in_progress"), WAIT);
    expect(world.jobs()[0]).toMatchObject({ id: jobId, runnerName: "mayfly-999-a" });
    expect(world.github.runners()[0]?.busy).toBe(true);
  });

  it("powers an idle runner's VM off after the idle timeout", async () => {
    const { world, receiver } = await setUp({ idleTimeoutMs: 100 });
    const controller = standInController(world, receiver);
    await controller.launch(5, ["mayfly-gpu"]);
    const id = controller.launched[0]?.instanceId ?? "";
    await vi.waitFor(() => expect(world.github.runners()[0]?.status).toBe("online"), WAIT);
    expect(world.ec2.statusOf(id)).toBe("running");
    await vi.waitFor(() => expect(world.ec2.statusOf(id)).toBe("terminated"), WAIT);
    expect(world.github.runners()).toEqual([]);
    expect(world.stats()).toMatchObject({ vmsBooted: 1, jobsRun: 0 });
  });

  it("boots no second VM for a ClientToken used again with other parameters", async () => {
    const { world, receiver } = await setUp();
    const controller = standInController(world, receiver, () => false);
    await controller.launch(7, LABELS);
    // Another runner's user data and tags under job 7's token: EC2 refuses it.
    await expect(controller.launch(8, LABELS, "job-7")).rejects.toThrow(
      /IdempotentParameterMismatch/,
    );
    await vi.waitFor(() => expect(world.stats().vmsBooted).toBe(1), WAIT);
    await new Promise((r) => setTimeout(r, 100));
    expect(world.ec2.instances()).toHaveLength(1);
    expect(world.stats().vmsBooted).toBe(1);
    // The second registration never gets a VM of its own, so it stays offline.
    const statuses = world.github.runners().map((r) => [r.name, r.status]);
    expect(statuses).toEqual([
      ["mayfly-7-a", "online"],
      ["mayfly-8-a", "offline"],
    ]);
  });

  it("does not boot a VM terminated before its boot completes", async () => {
    const { world, receiver } = await setUp({ bootMs: 100 });
    const controller = standInController(world, receiver, () => false);
    await controller.launch(6, LABELS);
    const id = controller.launched[0]?.instanceId ?? "";
    world.ec2.powerOff(id);
    await new Promise((r) => setTimeout(r, 200));
    expect(world.github.runners()[0]?.status).toBe("offline");
    expect(world.stats().vmsBooted).toBe(0);
  });

  it("cancels a queued job with no runner, and a running one releasing its runner", async () => {
    const { world, receiver } = await setUp();
    const queued = await world.queueJob({
      repository: "example-org/app",
      labels: ["nobody"],
      durationMs: 50,
    });
    await world.cancelJob(queued);
    expect(world.jobs()[0]).toMatchObject({
      status: "completed",
      conclusion: "cancelled",
      runnerId: null,
    });

    const controller = standInController(world, receiver);
    const running = await world.queueJob({
      repository: "example-org/app",
      labels: LABELS,
      durationMs: 60_000,
    });
    await vi.waitFor(() => expect(world.jobs()[1]?.status).toBe("in_progress"), WAIT);
    await world.cancelJob(running);
    expect(world.jobs()[1]).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(world.github.runners()).toEqual([]);
    expect(world.ec2.statusOf(controller.launched[0]?.instanceId ?? "")).toBe("terminated");
    expect(receiver.received.filter((r) => r.conclusion === "cancelled")).toHaveLength(2);
  });

  it("stops twice without error and fires no timer afterwards", async () => {
    const { world, receiver } = await setUp({ bootMs: 50 });
    const controller = standInController(world, receiver);
    await world.queueJob({ repository: "example-org/app", labels: LABELS, durationMs: 50 });
    await vi.waitFor(() => expect(controller.launched).toHaveLength(1), WAIT);
    await world.stop();
    await world.stop();
    await new Promise((r) => setTimeout(r, 120));
    expect(world.stats().vmsBooted).toBe(0);
  });
});
