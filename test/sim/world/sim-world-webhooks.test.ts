import { afterEach, describe, expect, it, vi } from "vitest";
import type { DeliverySummary } from "../../../src/github/github.js";
import { workflowJobPayload } from "../../../src/intake/workflow-job-payload.js";
import { type SimWorld, startSimWorld } from "../../../src/sim/world/start-sim-world.js";
import { adapterFor } from "../../github/adapter.js";
import { SECRET, startReceiver } from "./world-harness.js";

const WAIT = { timeout: 5000, interval: 10 };
const JOB = { repository: "example-org/app", labels: ["nobody-has-this"], durationMs: 10 };

let world: SimWorld | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
afterEach(async () => {
  await world?.stop();
  await receiver?.stop();
  world = undefined;
  receiver = undefined;
});

async function setUp(secret = SECRET) {
  world = await startSimWorld();
  receiver = await startReceiver(SECRET, world.identityCertificatePem);
  world.connect({ url: receiver.url, secret });
  return { world, receiver };
}

describe("startSimWorld webhooks", () => {
  it("only logs deliveries until connected", async () => {
    world = await startSimWorld();
    receiver = await startReceiver(SECRET, world.identityCertificatePem);
    await world.queueJob(JOB);
    expect(world.stats().webhooksSent).toBe(0);
    world.connect({ url: receiver.url, secret: SECRET });
    await world.queueJob(JOB);
    expect(receiver.received).toHaveLength(1);
    expect(world.stats().webhooksSent).toBe(1);
  });

  it("sends signed payloads the controller's intake accepts, under the logged GUID", async () => {
    const { world, receiver } = await setUp();
    const id = await world.queueJob(JOB);
    expect(receiver.received).toEqual([
      expect.objectContaining({ event: "workflow_job", action: "queued", jobId: id }),
    ]);
    expect(world.stats()).toMatchObject({ webhooksSent: 1, webhooksFailed: 0 });
    const logged = await fetchDeliveryPayload(world, receiver.received[0]?.guid ?? "");
    expect(workflowJobPayload.safeParse(logged).success).toBe(true);
  });

  it("counts a delivery the receiver refuses (bad signature) as failed, without retrying", async () => {
    const { world, receiver } = await setUp("the wrong secret");
    await world.queueJob(JOB);
    expect(receiver.received).toEqual([]);
    expect(world.stats()).toMatchObject({ webhooksSent: 1, webhooksFailed: 1 });
  });

  it("counts an unreachable receiver as failed", async () => {
    const { world, receiver } = await setUp();
    await receiver.stop();
    await world.queueJob(JOB);
    expect(world.stats()).toMatchObject({ webhooksSent: 1, webhooksFailed: 1 });
  });

  it("duplicates: the next delivery arrives twice with the same GUID", async () => {
    const { world, receiver } = await setUp();
    world.faults({ duplicate: 1 });
    await world.queueJob(JOB);
    await world.queueJob(JOB);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received[0]?.guid).toBe(receiver.received[1]?.guid);
    expect(receiver.received[2]?.guid).not.toBe(receiver.received[0]?.guid);
  });

  it("drops: the next delivery is logged but never sent", async () => {
    const { world, receiver } = await setUp();
    world.faults({ drop: 1 });
    const dropped = await world.queueJob(JOB);
    const sent = await world.queueJob(JOB);
    expect(receiver.received.map((r) => r.jobId)).toEqual([sent]);
    const log = await listDeliveries(world);
    expect(log).toHaveLength(2);
    expect(dropped).not.toBe(sent);
  });

  it("reorders: a held-back delivery arrives right after the next one", async () => {
    const { world, receiver } = await setUp();
    world.faults({ reorder: 1 });
    const a = await world.queueJob(JOB);
    const b = await world.queueJob(JOB);
    const c = await world.queueJob(JOB);
    await vi.waitFor(() => expect(receiver.received).toHaveLength(3), WAIT);
    expect(receiver.received.map((r) => r.jobId)).toEqual([b, a, c]);
  });
});

/** The App's delivery log, read through the sim's REST API as the controller would. */
async function listDeliveries(w: SimWorld): Promise<DeliverySummary[]> {
  const out: DeliverySummary[] = [];
  for await (const d of adapterFor(w.github).github.listDeliveries(new Date(0))) out.push(d);
  return out;
}

async function fetchDeliveryPayload(w: SimWorld, guid: string): Promise<unknown> {
  const found = (await listDeliveries(w)).find((d) => d.guid === guid);
  if (found === undefined) throw new Error(`no delivery ${guid}`);
  return (await adapterFor(w.github).github.getDeliveryPayload(found.id)).payload;
}
