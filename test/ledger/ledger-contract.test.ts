import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jobEvent } from "../support/fixtures.js";
import { needPostgres } from "../support/need-postgres.js";
import { type LedgerKind, type TestLedger, testLedger } from "../support/test-ledger.js";

const postgres = needPostgres(
  "the PostgreSQL ledger contract (test/ledger/ledger-contract.test.ts)",
);
const postgresUrl = postgres.url;
const kinds: LedgerKind[] = ["pglite", "postgresql"];

const delivery = (id: string, receivedAt = new Date("2026-11-23T10:00:00Z")) => ({
  id,
  event: "workflow_job",
  receivedAt,
});

describe.each(kinds)("ledger on %s", (kind) => {
  const unavailable = kind === "postgresql" && !postgresUrl;
  let t: TestLedger;

  beforeAll(async () => {
    if (unavailable) return;
    t = await testLedger(kind, postgresUrl);
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async (ctx) => {
    if (unavailable) {
      ctx.skip(postgres.why);
    }
    await t.truncate();
  });

  it("records a delivery and its job in one go", async () => {
    expect(await t.ledger.ingest(delivery("d1"), jobEvent(), "linux-4cpu")).toBe("recorded");
    const job = await t.ledger.getJob(1001);
    expect(job).toMatchObject({
      id: 1001,
      runId: 501,
      state: "queued",
      pool: "linux-4cpu",
      labels: ["self-hosted", "linux", "x64", "mayfly-4cpu"],
      queuedAt: new Date("2026-11-23T10:00:00Z"),
      installationId: 77,
    });
    expect(await t.query("select id, event from deliveries")).toEqual([
      { id: "d1", event: "workflow_job" },
    ]);
  });

  it("treats a repeated delivery ID as a no-op", async () => {
    await t.ledger.ingest(delivery("d1"), jobEvent(), "linux-4cpu");
    const again = await t.ledger.ingest(
      delivery("d1"),
      jobEvent({ action: "completed", conclusion: "success", completedAt: new Date() }),
      "linux-4cpu",
    );
    expect(again).toBe("duplicate");
    expect((await t.ledger.getJob(1001))?.state).toBe("queued");
  });

  it("moves a job forward and ignores a late queued", async () => {
    const started = new Date("2026-11-23T10:01:00Z");
    await t.ledger.ingest(delivery("d1"), jobEvent(), "linux-4cpu");
    await t.ledger.ingest(
      delivery("d2"),
      jobEvent({
        action: "in_progress",
        startedAt: started,
        runnerId: 5,
        runnerName: "mayfly-1001-1",
      }),
      "linux-4cpu",
    );
    await t.ledger.ingest(
      delivery("d3"),
      jobEvent({
        action: "completed",
        startedAt: started,
        completedAt: new Date("2026-11-23T10:09:00Z"),
        conclusion: "failure",
        runnerId: 5,
        runnerName: "mayfly-1001-1",
      }),
      "linux-4cpu",
    );
    await t.ledger.ingest(delivery("d4"), jobEvent(), "linux-4cpu");
    expect(await t.ledger.getJob(1001)).toMatchObject({
      state: "completed",
      conclusion: "failure",
      runnerId: 5,
      runnerName: "mayfly-1001-1",
      startedAt: started,
    });
  });

  it("stores nothing for a job that is not ours", async () => {
    expect(await t.ledger.ingest(delivery("d1"), jobEvent(), null)).toBe("ignored");
    expect(await t.query("select * from deliveries")).toEqual([]);
    expect(await t.query("select * from jobs")).toEqual([]);
  });

  it("still follows a known job after its pool left the fleet file", async () => {
    await t.ledger.ingest(delivery("d1"), jobEvent(), "linux-4cpu");
    const outcome = await t.ledger.ingest(
      delivery("d2"),
      jobEvent({ action: "completed", conclusion: "cancelled", completedAt: new Date() }),
      null,
    );
    expect(outcome).toBe("recorded");
    expect(await t.ledger.getJob(1001)).toMatchObject({ state: "completed", pool: "linux-4cpu" });
  });

  it("applies concurrent deliveries of one job without losing any", async () => {
    const started = new Date("2026-11-23T10:01:00Z");
    const events = [
      jobEvent(),
      jobEvent({ action: "in_progress", startedAt: started, runnerId: 5, runnerName: "r" }),
      jobEvent({
        action: "completed",
        startedAt: started,
        completedAt: new Date("2026-11-23T10:02:00Z"),
        conclusion: "success",
        runnerId: 5,
        runnerName: "r",
      }),
    ];
    const outcomes = await Promise.all(
      events.flatMap((e, i) =>
        [0, 1, 2].map((copy) => t.ledger.ingest(delivery(`d${i}-${copy}`), e, "linux-4cpu")),
      ),
    );
    expect(outcomes.every((o) => o === "recorded")).toBe(true);
    expect(await t.ledger.getJob(1001)).toMatchObject({
      state: "completed",
      conclusion: "success",
      runnerName: "r",
    });
    expect(await t.query("select count(*)::int as n from jobs")).toEqual([{ n: 1 }]);
  });

  it("prunes delivery IDs older than the cut-off", async () => {
    await t.ledger.ingest(
      delivery("old", new Date("2026-11-01T00:00:00Z")),
      jobEvent({ jobId: 1 }),
      "p",
    );
    await t.ledger.ingest(
      delivery("new", new Date("2026-11-23T00:00:00Z")),
      jobEvent({ jobId: 2 }),
      "p",
    );
    const longAgo = new Date("2020-01-01T00:00:00Z");
    expect(
      await t.ledger.prune({
        deliveries: new Date("2026-11-20T00:00:00Z"),
        jobs: longAgo,
        usage: longAgo,
      }),
    ).toEqual({ deliveries: 1, jobs: 0, runners: 0, usage: 0 });
    expect(await t.query("select id from deliveries")).toEqual([{ id: "new" }]);
    expect(await t.query("select count(*)::int as n from jobs")).toEqual([{ n: 2 }]);
  });

  it("tells which delivery IDs it already holds", async () => {
    await t.ledger.ingest(delivery("d1"), jobEvent({ jobId: 1 }), "p");
    await t.ledger.ingest(delivery("d2"), jobEvent({ jobId: 2 }), "p");
    expect(await t.ledger.knownDeliveries(["d1", "d3", "d2", "d1"])).toEqual(new Set(["d1", "d2"]));
    expect(await t.ledger.knownDeliveries([])).toEqual(new Set());
    const many = Array.from({ length: 2500 }, (_, i) => `x${i}`);
    expect(await t.ledger.knownDeliveries([...many, "d2"])).toEqual(new Set(["d2"]));
  });

  it("remembers a skipped delivery by ID and reason only, counts it known, and prunes it with the deliveries", async () => {
    const skippedAt = new Date("2026-11-23T10:00:00Z");
    await t.ledger.skipDelivery("poisoned", "PAYLOAD_INVALID", skippedAt);
    await t.ledger.skipDelivery("poisoned", "SOMETHING_ELSE", new Date());
    await t.ledger.skipDelivery("old", "PAYLOAD_INVALID", new Date("2026-11-01T00:00:00Z"));
    expect(await t.ledger.knownDeliveries(["poisoned", "other"])).toEqual(new Set(["poisoned"]));
    // Skipping stores no job and no received delivery: the dedup of webhooks is unchanged.
    expect(await t.query("select id from deliveries")).toEqual([]);
    expect(await t.query("select * from skipped_deliveries order by id")).toEqual([
      { id: "old", reason: "PAYLOAD_INVALID", skipped_at: new Date("2026-11-01T00:00:00Z") },
      { id: "poisoned", reason: "PAYLOAD_INVALID", skipped_at: skippedAt },
    ]);
    const longAgo = new Date("2000-01-01T00:00:00Z");
    expect(
      await t.ledger.prune({
        deliveries: new Date("2026-11-20T00:00:00Z"),
        jobs: longAgo,
        usage: longAgo,
      }),
    ).toMatchObject({ deliveries: 1 });
    expect(await t.ledger.knownDeliveries(["poisoned", "old"])).toEqual(new Set(["poisoned"]));
  });

  it("does not count a delivery of a job it ignored as known", async () => {
    await t.ledger.ingest(delivery("d1"), jobEvent({ jobId: 1 }), null);
    expect(await t.ledger.knownDeliveries(["d1"])).toEqual(new Set());
  });

  it("tells when the newest delivery reached it", async () => {
    expect(await t.ledger.latestDeliveryAt()).toBeUndefined();
    await t.ledger.ingest(
      delivery("d1", new Date("2026-11-23T10:00:00Z")),
      jobEvent({ jobId: 1 }),
      "p",
    );
    await t.ledger.ingest(
      delivery("d2", new Date("2026-11-23T10:05:00Z")),
      jobEvent({ jobId: 2 }),
      "p",
    );
    expect(await t.ledger.latestDeliveryAt()).toEqual(new Date("2026-11-23T10:05:00Z"));
    expect(await t.ledger.latestDeliveryAt(new Date("2026-11-23T10:05:00Z"))).toEqual(
      new Date("2026-11-23T10:00:00Z"),
    );
    expect(await t.ledger.latestDeliveryAt(new Date("2026-11-23T09:00:00Z"))).toBeUndefined();
  });

  it("leases a subnet to one runner at a time", async () => {
    await t.query(
      "insert into runners (pool, runner_name, launch_token, state) values ('p', 'r1', 't1', 'launching'), ('p', 'r2', 't2', 'launching')",
    );
    const [r1, r2] = (await t.query<{ id: number }>("select id::int from runners order by id")).map(
      (r) => r.id,
    ) as [number, number];
    const subnet = { subnetId: "subnet-1", availabilityZone: "eu-west-1a", cidr: "10.0.128.0/28" };
    await t.ledger.addSubnets([subnet]);
    const at = new Date("2026-11-23T10:00:00Z");
    expect(await t.ledger.leaseSubnet(r1, ["eu-west-1a"], at)).toEqual(subnet);
    // Held: the other runner gets none, and the holder asking again keeps the same one.
    expect(await t.ledger.leaseSubnet(r2, ["eu-west-1a"], at)).toBeUndefined();
    expect(await t.ledger.leaseSubnet(r1, ["eu-west-1a"], at)).toEqual(subnet);
    expect(await t.ledger.listSubnets()).toMatchObject([{ subnetId: "subnet-1", leased: true }]);
    await t.ledger.releaseSubnet(r1);
    expect(await t.ledger.leaseSubnet(r2, ["eu-west-1a"], at)).toEqual(subnet);
    expect(await t.query("select subnet_id, runner_id::int from subnets")).toEqual([
      { subnet_id: "subnet-1", runner_id: r2 },
    ]);
  });

  it("lets a runner hold at most one subnet", async () => {
    await t.query(
      "insert into runners (pool, runner_name, launch_token, state) values ('p', 'r1', 't1', 'launching'), ('p', 'r2', 't2', 'launching')",
    );
    await t.query(
      "insert into subnets (subnet_id, availability_zone, cidr) values ('subnet-1', 'eu-west-1a', '10.0.128.0/28')",
    );
    const [r1, r2] = await t.query<{ id: number }>("select id from runners order by id");
    await t.query(
      "update subnets set runner_id = $1, leased_at = now() where subnet_id = 'subnet-1'",
      [r1?.id],
    );
    await t.query(
      "insert into subnets (subnet_id, availability_zone, cidr) values ('subnet-2', 'eu-west-1a', '10.0.128.16/28')",
    );
    await expect(
      t.query("update subnets set runner_id = $1, leased_at = now() where subnet_id = 'subnet-2'", [
        r1?.id,
      ]),
    ).rejects.toThrow(/unique/);
    await t.query(
      "update subnets set runner_id = $1, leased_at = now() where subnet_id = 'subnet-2'",
      [r2?.id],
    );
  });

  it("migrates twice without harm", async () => {
    await t.ledger.migrate();
    await t.ledger.ping();
  });

  it("holds no column for bodies, logs, tokens or JIT configs", async () => {
    const columns = await t.query<{ column_name: string }>(
      "select column_name from information_schema.columns where table_schema = 'public' and table_name in ('jobs', 'runners', 'subnets', 'deliveries', 'usage')",
    );
    const names = columns.map((c) => c.column_name);
    expect(names).toContain("head_sha");
    for (const name of names)
      expect(name).not.toMatch(/body|payload|log|token_value|secret|jit|config|password/);
  });
});
