import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import {
  type RecoveryDeps,
  type RecoveryProgress,
  recoverDeliveries,
} from "../../src/fleet/recover-deliveries.js";
import type { DeliverySummary } from "../../src/github/github.js";
import { buildApp } from "../../src/http/build-app.js";
import { type SimWorld, startSimWorld } from "../../src/sim/world/start-sim-world.js";
import { adapterFor } from "../github/adapter.js";
import { jobEvent, memoryLogger, testFleet } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

const WEBHOOK_KEY = "recovery test webhook key";
const fleet = testFleet();
const OURS = {
  repository: "example-org/app",
  labels: ["self-hosted", "linux", "mayfly-4cpu"],
  durationMs: 10,
};
const PAYLOAD_FETCH = /^\/app\/hook\/deliveries\/\d+$/;

describe("recovering missed webhook deliveries from the App's delivery log", () => {
  let t: TestLedger;
  let world: SimWorld;
  let app: FastifyInstance;
  let log: ReturnType<typeof memoryLogger>;
  let deps: RecoveryDeps;
  const recorded: string[] = [];

  const fetches = () => world.github.requestCount(PAYLOAD_FETCH);
  const jobsInLedger = async () =>
    (await t.query<{ id: string }>("select id from jobs order by id")).map((r) => Number(r.id));
  /** Queues `count` jobs of ours; the deliveries at the given positions are dropped. */
  const burst = async (count: number, dropAt: readonly number[]) => {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      if (dropAt.includes(i)) world.faults({ drop: 1 });
      ids.push(await world.queueJob(OURS));
    }
    return ids;
  };

  beforeEach(async () => {
    t = await testLedger("pglite", "");
    world = await startSimWorld();
    log = memoryLogger();
    recorded.length = 0;
    const intake = {
      ledger: t.ledger,
      pools: fleet.pools,
      bindingLabelPrefix: fleet.bindingLabelPrefix,
      now: () => new Date(),
      onJobRecorded: (event: { action: string }) => recorded.push(event.action),
    };
    app = buildApp({
      ...intake,
      logger: log.logger,
      webhookSecrets: [new Secret(WEBHOOK_KEY)],
      webhookBodyLimitBytes: 1024 * 1024,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    world.connect({ url: `http://127.0.0.1:${port}/webhook`, secret: WEBHOOK_KEY });
    deps = { ...intake, github: adapterFor(world.github).github, logger: log.logger };
  });
  afterEach(async () => {
    await world.stop();
    await app.close();
    await t.close();
  });

  it("records every job whose delivery was dropped, fetching only those payloads", async () => {
    const ids = await burst(10, [2, 7]);
    expect(await jobsInLedger()).toEqual(ids.filter((_, i) => i !== 2 && i !== 7));
    recorded.length = 0;

    const counts = await recoverDeliveries(deps, { maxFetches: 50 });

    expect(counts).toEqual({
      listed: 10,
      answered: 8,
      fetched: 2,
      recorded: 2,
      skipped: 0,
      unfetched: 0,
      left: 0,
    });
    expect(fetches()).toBe(2);
    expect(await jobsInLedger()).toEqual(ids);
    expect((await t.ledger.getJob(ids[2] ?? 0))?.state).toBe("queued");
    // The dispatcher is woken as for a webhook.
    expect(recorded).toEqual(["queued", "queued"]);
  });

  it("fetches no payload on a second pass", async () => {
    await burst(10, [0, 5]);
    await recoverDeliveries(deps, { maxFetches: 50 });
    const before = fetches();

    const again = await recoverDeliveries(deps, { maxFetches: 50 });

    expect(again).toMatchObject({ fetched: 0, recorded: 0, left: 0 });
    expect(fetches()).toBe(before);
  });

  it("stays within its fetch budget, oldest first, and a later pass finishes", async () => {
    const ids = await burst(10, [1, 3, 5, 7, 9]);
    const progress: RecoveryProgress = { resumeFrom: undefined, settled: new Map() };

    const first = await recoverDeliveries(deps, { maxFetches: 2, progress });
    expect(first).toMatchObject({ fetched: 2, recorded: 2, left: 3 });
    expect(fetches()).toBe(2);
    expect(await t.ledger.getJob(ids[1] ?? 0)).toBeDefined();
    expect(await t.ledger.getJob(ids[3] ?? 0)).toBeDefined();
    expect(await t.ledger.getJob(ids[9] ?? 0)).toBeUndefined();

    expect(await recoverDeliveries(deps, { maxFetches: 2, progress })).toMatchObject({
      fetched: 2,
      left: 1,
    });
    expect(await recoverDeliveries(deps, { maxFetches: 2, progress })).toMatchObject({
      fetched: 1,
      recorded: 1,
      left: 0,
    });
    expect(fetches()).toBe(5);
    expect(await jobsInLedger()).toEqual(ids);
  });

  it("lists again, each pass, only deliveries that could still be logged late", async () => {
    await burst(4, [2]);
    const progress: RecoveryProgress = { resumeFrom: undefined, settled: new Map() };
    expect(await recoverDeliveries(deps, { maxFetches: 10, progress })).toMatchObject({
      listed: 4,
      recorded: 1,
    });
    // Within a minute of GitHub's clock at that listing, the whole log is listed again.
    expect(await recoverDeliveries(deps, { maxFetches: 10, progress })).toMatchObject({
      listed: 4,
      fetched: 0,
    });
    // GitHub's Date header counts whole seconds: let one pass so the burst is behind it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await recoverDeliveries(deps, { maxFetches: 10, progress, lateMs: 0 });
    const later = await burst(2, [0]);
    expect(await recoverDeliveries(deps, { maxFetches: 10, progress, lateMs: 0 })).toMatchObject({
      listed: 2,
      recorded: 1,
    });
    expect(await t.ledger.getJob(later[0] ?? 0)).toBeDefined();
  });

  it("does not fetch a delivery the ledger already has, even one no webhook brought", async () => {
    const [first, second] = await burst(2, [0, 1]);
    const [firstGuid] = await collectLog();
    if (!firstGuid || first === undefined) throw new Error("expected two logged deliveries");
    // Recorded meanwhile by another replica (say, after a manual redelivery), same GUID.
    await t.ledger.ingest(
      { id: firstGuid, event: "workflow_job", receivedAt: new Date() },
      jobEvent({ jobId: first }),
      "linux-4cpu",
    );

    const counts = await recoverDeliveries(deps, { maxFetches: 10 });

    expect(counts).toMatchObject({ listed: 2, fetched: 1, recorded: 1, left: 0 });
    expect(fetches()).toBe(1);
    expect(await jobsInLedger()).toEqual([first, second]);
  });

  it("skips a malformed logged payload for good, logging its IDs but never its body", async () => {
    const poisoned = world.github.recordDelivery("workflow_job", {
      action: "queued",
      workflow_job: { id: "not-a-number", name: "leaky-marker-4711" },
    });
    const ids = await burst(3, [1]);

    const counts = await recoverDeliveries(deps, { maxFetches: 10 });

    expect(counts).toMatchObject({ fetched: 2, recorded: 1, skipped: 1, left: 0 });
    expect(await jobsInLedger()).toEqual(ids);
    expect(await t.query("select id, reason from skipped_deliveries")).toEqual([
      { id: poisoned.guid, reason: "PAYLOAD_INVALID" },
    ]);
    const lines = log.lines();
    expect(lines).toContain("logged delivery cannot be applied; skipped");
    expect(lines).not.toContain("leaky-marker-4711");
    expect(lines).not.toContain("not-a-number");
    // Not fetched again, even by a process that starts afresh (no progress kept in memory).
    const before = fetches();
    expect(await recoverDeliveries(deps, { maxFetches: 10 })).toMatchObject({ fetched: 0 });
    expect(fetches()).toBe(before);
  });

  it("skips a delivery whatever the error applying it, and goes on to the next", async () => {
    world.faults({ drop: 3 });
    const ids = await burst(3, []);
    const [, poisonedGuid] = await collectLog();
    // The ledger fails on the second delivery only, with a message quoting its content.
    const ledger = new Proxy(t.ledger, {
      get: (target, name, receiver) =>
        name === "ingest"
          ? (delivery: { id: string }, ...rest: unknown[]) => {
              if (delivery.id === poisonedGuid)
                throw Object.assign(new Error('value "leaky-marker-4711" is out of range'), {
                  code: "22003",
                });
              return (target.ingest as (...a: unknown[]) => unknown)(delivery, ...rest);
            }
          : Reflect.get(target, name, receiver),
    });

    const counts = await recoverDeliveries({ ...deps, ledger }, { maxFetches: 10 });

    expect(counts).toMatchObject({ fetched: 3, recorded: 2, skipped: 1, unfetched: 0 });
    expect(await jobsInLedger()).toEqual([ids[0], ids[2]]);
    expect(await t.query("select id, reason from skipped_deliveries")).toEqual([
      { id: poisonedGuid, reason: "SQLSTATE_22003" },
    ]);
    expect(log.lines()).not.toContain("leaky-marker-4711");
    expect(await recoverDeliveries(deps, { maxFetches: 10 })).toMatchObject({ fetched: 0 });
  });

  it("tries a delivery again on a later pass when the database could not take it now", async () => {
    world.faults({ drop: 2 });
    const ids = await burst(2, []);
    const [firstGuid] = await collectLog();
    let deadlockOnce = true;
    // A deadlock (SQLSTATE 40P01) says "not now", not "never": the delivery is not skipped.
    const ledger = new Proxy(t.ledger, {
      get: (target, name, receiver) =>
        name === "ingest"
          ? (delivery: { id: string }, ...rest: unknown[]) => {
              if (delivery.id === firstGuid && deadlockOnce) {
                deadlockOnce = false;
                throw Object.assign(new Error("deadlock detected"), { code: "40P01" });
              }
              return (target.ingest as (...a: unknown[]) => unknown)(delivery, ...rest);
            }
          : Reflect.get(target, name, receiver),
    });
    const progress: RecoveryProgress = { resumeFrom: undefined, settled: new Map() };

    const first = await recoverDeliveries({ ...deps, ledger }, { maxFetches: 10, progress });
    expect(first).toMatchObject({ recorded: 1, skipped: 0, unfetched: 1 });
    expect(await t.query("select id from skipped_deliveries")).toEqual([]);
    const second = await recoverDeliveries(
      { ...deps, ledger },
      { maxFetches: 10, progress, lateMs: 0 },
    );
    expect(second).toMatchObject({ recorded: 1, unfetched: 0 });
    expect(await jobsInLedger()).toEqual(ids);
  });

  it("tries a delivery whose fetch failed again on a later pass, recording the others now", async () => {
    world.faults({ drop: 3 });
    const ids = await burst(3, []);
    const logIds = (await logEntries()).map((d) => d.id);
    const github = deps.github;
    let failOnce = true;
    const flaky = new Proxy(github, {
      get(target, name) {
        if (name === "getDeliveryPayload")
          return (id: number) => {
            if (id === logIds[0] && failOnce) {
              failOnce = false;
              return Promise.reject(new Error("GitHub answered 502"));
            }
            return target.getDeliveryPayload(id);
          };
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const progress: RecoveryProgress = { resumeFrom: undefined, settled: new Map() };

    const first = await recoverDeliveries({ ...deps, github: flaky }, { maxFetches: 10, progress });
    expect(first).toMatchObject({ fetched: 2, recorded: 2, unfetched: 1 });
    expect(await jobsInLedger()).toEqual([ids[1], ids[2]]);
    // The cursor stays at the failed one, however late the listing says it is.
    const second = await recoverDeliveries(
      { ...deps, github: flaky },
      { maxFetches: 10, progress, lateMs: 0 },
    );
    expect(second).toMatchObject({ fetched: 1, recorded: 1, unfetched: 0 });
    expect(await jobsInLedger()).toEqual(ids);
    expect(await t.query("select id from skipped_deliveries")).toEqual([]);
  });

  it("fetches no delivery the log shows we answered 2xx, ours or not", async () => {
    // Five jobs of ours (answered 202) and five that are not (answered 204).
    for (let i = 0; i < 5; i++) {
      await world.queueJob(OURS);
      await world.queueJob({ ...OURS, labels: ["ubuntu-22.04-arm"] });
    }
    expect((await logEntries()).map((d) => d.statusCode)).toEqual([
      202, 204, 202, 204, 202, 204, 202, 204, 202, 204,
    ]);

    const counts = await recoverDeliveries(deps, { maxFetches: 50 });

    expect(counts).toMatchObject({ listed: 10, answered: 10, fetched: 0, left: 0 });
    expect(fetches()).toBe(0);
    expect(await recoverDeliveries(deps, { maxFetches: 50 })).toMatchObject({ fetched: 0 });
    expect(fetches()).toBe(0);
  });

  it("fetches a job that is not ours once, then remembers it across passes", async () => {
    world.faults({ drop: 1 });
    await world.queueJob({ ...OURS, labels: ["ubuntu-22.04-arm"] });
    const progress: RecoveryProgress = { resumeFrom: undefined, settled: new Map() };

    expect(await recoverDeliveries(deps, { maxFetches: 10, progress })).toMatchObject({
      fetched: 1,
      recorded: 0,
      skipped: 1,
    });
    expect(await recoverDeliveries(deps, { maxFetches: 10, progress })).toMatchObject({
      fetched: 0,
    });
    expect(fetches()).toBe(1);
    expect(await jobsInLedger()).toEqual([]);
  });

  it("ignores other events and looks no further back than GitHub keeps deliveries", async () => {
    const fourDaysAgo = new Date(Date.now() - 4 * 24 * 3_600_000);
    world.github.recordDelivery("workflow_job", { action: "queued" }, { deliveredAt: fourDaysAgo });
    world.github.recordDelivery("ping", { zen: "Keep it logically awesome." });
    world.faults({ drop: 1 });
    const [id] = await burst(1, []);

    const counts = await recoverDeliveries(deps, { maxFetches: 10 });

    expect(counts).toEqual({
      listed: 2,
      answered: 0,
      fetched: 1,
      recorded: 1,
      skipped: 0,
      unfetched: 0,
      left: 0,
    });
    expect(await jobsInLedger()).toEqual([id]);
  });

  it("finds the gap before a restart although webhooks arrived since", async () => {
    world.faults({ drop: 3 });
    const missed = await burst(3, []);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const restartedAt = new Date();
    const live = await burst(2, []);

    const counts = await recoverDeliveries(deps, {
      maxFetches: 10,
      overlapMs: 0,
      recordedBefore: restartedAt,
    });

    expect(counts).toMatchObject({ fetched: 3, recorded: 3, left: 0 });
    expect(await jobsInLedger()).toEqual([...missed, ...live]);
  });

  /** The GUIDs in the simulated GitHub's delivery log, oldest first. */
  async function collectLog(): Promise<string[]> {
    return (await logEntries()).map((d) => d.guid);
  }

  /** The simulated GitHub's delivery log as the adapter lists it, oldest first. */
  async function logEntries(): Promise<DeliverySummary[]> {
    const entries: DeliverySummary[] = [];
    for await (const d of deps.github.listDeliveries(new Date(0))) entries.unshift(d);
    return entries;
  }
});
