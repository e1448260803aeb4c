import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ClaimRequest, LaunchIntent, Ledger } from "../../src/ledger/ledger.js";
import { jobEvent } from "../support/fixtures.js";
import { needPostgres } from "../support/need-postgres.js";
import {
  type LedgerKind,
  replicaLedgers,
  type TestLedger,
  testLedger,
} from "../support/test-ledger.js";

const postgres = needPostgres("the PostgreSQL fair-share suites (test/ledger/fair-share.test.ts)");
const postgresUrl = postgres.url;
const kinds: LedgerKind[] = ["pglite", "postgresql"];
const now = new Date("2026-11-23T12:00:00Z");
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
const prices = { byType: {}, hosted: {} };

// Pool "m": 10 runners, 4 of them at most for one repository.
const claim = (overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  fleet: "test",
  now,
  budget: 100,
  fleetMax: 100,
  maxByPool: new Map([["m", 10]]),
  repositoryCaps: { byPool: new Map([["m", 4]]) },
  maxLaunchesPerJob: 3,
  ...overrides,
});

let delivery = 0;

/** Queues 20 jobs of acme/a (ids 1-20), then 3 of acme/b (ids 21-23), in pool "m". */
async function matrixThenOthers(ledger: Ledger): Promise<void> {
  const queue = (jobId: number, repository: string, minutesAgo: number) =>
    ledger.ingest(
      { id: `fair-${++delivery}`, event: "workflow_job", receivedAt: now },
      jobEvent({ jobId, repository, createdAt: new Date(now.getTime() - minutesAgo * 60_000) }),
      "m",
    );
  for (let id = 1; id <= 20; id++) await queue(id, "acme/a", 60 - id);
  for (let id = 21; id <= 23; id++) await queue(id, "acme/b", 30 - id);
}

const ofRepo = (intents: readonly LaunchIntent[], repository: string) =>
  intents.filter((i) => i.repository === repository).map((i) => i.jobId);

/** Starts the intent's VM, which runs its job; then the cloud reports it gone. */
async function runAndEnd(ledger: Ledger, intent: LaunchIntent, n: number): Promise<void> {
  await ledger.recordLaunch(intent.runnerRowId, {
    instanceId: `i-${n}`,
    instanceType: "c7i.large",
    market: "on-demand",
    availabilityZone: "eu-west-1a",
    runnerId: n,
    launchedAt: now,
  });
  await ledger.ingest(
    { id: `fair-${++delivery}`, event: "workflow_job", receivedAt: now },
    jobEvent({
      jobId: intent.jobId,
      repository: intent.repository,
      action: "completed",
      conclusion: "success",
      startedAt: later(20),
      completedAt: later(50),
      runnerId: n,
      runnerName: intent.runnerName,
    }),
    "m",
  );
  await ledger.markTerminating([intent.runnerRowId], now);
  await ledger.recordTerminated(
    [{ instanceId: `i-${n}`, terminatedAt: later(60), reason: null }],
    prices,
  );
}

describe.each(kinds)("fair share on %s", (kind) => {
  const unavailable = kind === "postgresql" && !postgresUrl;
  let t: TestLedger;

  beforeAll(async () => {
    if (!unavailable) t = await testLedger(kind, postgresUrl);
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

  it("gives a matrix its repository's cap and another repository's jobs their runners", async () => {
    await matrixThenOthers(t.ledger);
    const intents = await t.ledger.claimLaunches(claim());
    expect(ofRepo(intents, "acme/a")).toEqual([1, 2, 3, 4]);
    expect(ofRepo(intents, "acme/b")).toEqual([21, 22, 23]);
    // The rest of the matrix is held, not failed: queued, no error, not given up.
    expect(
      await t.query(
        "select count(*)::int as n from jobs where state = 'queued' and launch_error is null and gave_up_at is null and launches = 0",
      ),
    ).toEqual([{ n: 16 }]);
    expect(await t.ledger.claimLaunches(claim())).toEqual([]);
  });

  it("launches a held job once a runner of its repository ends, not another's", async () => {
    await matrixThenOthers(t.ledger);
    const intents = await t.ledger.claimLaunches(claim());
    const b = intents.find((i) => i.repository === "acme/b");
    const a = intents.find((i) => i.repository === "acme/a");
    if (!a || !b) throw new Error("expected launches for both repositories");
    await runAndEnd(t.ledger, b, 1);
    expect(await t.ledger.claimLaunches(claim())).toEqual([]);
    await runAndEnd(t.ledger, a, 2);
    expect((await t.ledger.claimLaunches(claim())).map((i) => i.jobId)).toEqual([5]);
  });

  it("finds the other repositories' jobs behind a matrix longer than the rows it scans", async () => {
    await matrixThenOthers(t.ledger);
    const intents = await t.ledger.claimLaunches(claim({ scanLimit: 5 }));
    expect(ofRepo(intents, "acme/b").length).toBeGreaterThan(0);
    expect(ofRepo(intents, "acme/a").length).toBeLessThanOrEqual(4);
  });

  it("takes turns across repositories when the round's budget is short", async () => {
    await matrixThenOthers(t.ledger);
    const intents = await t.ledger.claimLaunches(claim({ budget: 4 }));
    expect(intents.map((i) => i.jobId)).toEqual([1, 21, 2, 22]);
  });

  it("launches in queue order without a cap, as before", async () => {
    await matrixThenOthers(t.ledger);
    const intents = await t.ledger.claimLaunches(claim({ repositoryCaps: undefined }));
    expect(intents.map((i) => i.jobId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

const TWO_REPLICAS = postgres.title("fair share with two replicas on one PostgreSQL server");
describe.skipIf(!postgresUrl)(TWO_REPLICAS, () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await testLedger("postgresql", postgresUrl);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("never passes a repository's cap with two replicas claiming at once", async () => {
    await matrixThenOthers(t.ledger);
    const [second] = await replicaLedgers(t, postgresUrl, 1);
    if (!second) throw new Error("expected a replica");
    try {
      const rounds = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? second : t.ledger).claimLaunches(claim({ budget: 1 })),
        ),
      );
      const claimed = rounds.flat();
      expect(new Set(claimed.map((i) => i.jobId)).size).toBe(claimed.length);
      expect(ofRepo(claimed, "acme/a")).toHaveLength(4);
      expect(ofRepo(claimed, "acme/b")).toHaveLength(3);
    } finally {
      await second.close();
    }
  });
});
