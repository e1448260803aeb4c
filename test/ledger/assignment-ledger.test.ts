import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger/ledger.js";
import { jobEvent } from "../support/fixtures.js";
import { needPostgres } from "../support/need-postgres.js";
import { type LedgerKind, type TestLedger, testLedger } from "../support/test-ledger.js";

const postgres = needPostgres(
  "the PostgreSQL assignment suites (test/ledger/assignment-ledger.test.ts)",
);
const kinds: LedgerKind[] = ["pglite", "postgresql"];
const now = new Date("2026-12-03T12:00:00Z");
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

let delivery = 0;
const event = (ledger: Ledger, overrides: Parameters<typeof jobEvent>[0], seconds = 0) =>
  ledger.ingest(
    { id: `d${++delivery}`, event: "workflow_job", receivedAt: at(seconds) },
    jobEvent({ createdAt: now, ...overrides }),
    "a",
  );

/** A job queued and its VM launched (unregistered): the row the VM asks as. */
async function launched(ledger: Ledger, jobId: number) {
  await event(ledger, { jobId });
  const [intent] = await ledger.claimLaunches({
    fleet: "test",
    now,
    budget: 10,
    fleetMax: 10,
    maxByPool: new Map([["a", 10]]),
    maxLaunchesPerJob: 3,
  });
  if (intent === undefined) throw new Error(`job ${jobId} gave no launch intent`);
  await ledger.recordLaunch(intent.runnerRowId, {
    instanceId: `i-${jobId}`,
    instanceType: "c7i.large",
    market: "on-demand",
    availabilityZone: "eu-west-1a",
    runnerId: null,
    launchedAt: now,
  });
  return intent;
}

describe.each(kinds)("assignments on %s", (kind) => {
  const unavailable = kind === "postgresql" && !postgres.url;
  let t: TestLedger;
  beforeAll(async () => {
    if (!unavailable) t = await testLedger(kind, postgres.url);
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async (ctx) => {
    if (unavailable) ctx.skip(postgres.why);
    await t.truncate();
  });

  it("finds the row an instance asks as, with its job's labels and registration place", async () => {
    expect(await t.ledger.findAssignment("i-404")).toBeUndefined();
    const intent = await launched(t.ledger, 1);
    expect(await t.ledger.findAssignment("i-1")).toEqual({
      runnerRowId: intent.runnerRowId,
      instanceId: "i-1",
      state: "running",
      pool: "a",
      runnerName: intent.runnerName,
      runnerId: null,
      launchedAt: now,
      claimedAt: null,
      assignedAt: null,
      runnerStartedAt: null,
      job: {
        jobId: 1,
        ended: false,
        labels: ["self-hosted", "linux", "x64", "mayfly-4cpu"],
        installationId: 77,
        org: "example-org",
        repository: "example-org/app",
      },
    });
  });

  it("gives one claim to many concurrent asks, none once answered", async () => {
    const { runnerRowId } = await launched(t.ledger, 2);
    const claims = await Promise.all(
      Array.from({ length: 10 }, () => t.ledger.claimAssignment(runnerRowId, now, at(-30))),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    await t.ledger.recordAssignment(runnerRowId, 9002, at(1));
    expect(await t.ledger.findAssignment("i-2")).toMatchObject({
      runnerId: 9002,
      claimedAt: null,
      assignedAt: at(1),
    });
    // Answered: no later claim, however old the first answer is.
    expect(await t.ledger.claimAssignment(runnerRowId, at(600), at(570))).toBe(false);
    // Recording again keeps the first answer's time.
    await t.ledger.recordAssignment(runnerRowId, 9002, at(5));
    expect((await t.ledger.findAssignment("i-2"))?.assignedAt).toEqual(at(1));
  });

  it("lets a claim age out, or be given up, so that a dead claimer does not strand the VM", async () => {
    const { runnerRowId } = await launched(t.ledger, 3);
    expect(await t.ledger.claimAssignment(runnerRowId, now, at(-30))).toBe(true);
    // Ten seconds on, the claim is young: nobody else registers.
    expect(await t.ledger.claimAssignment(runnerRowId, at(10), at(-20))).toBe(false);
    // Thirty-one seconds on it is stale and is taken over.
    expect(await t.ledger.claimAssignment(runnerRowId, at(31), at(1))).toBe(true);
    await t.ledger.releaseAssignmentClaim(runnerRowId);
    expect((await t.ledger.findAssignment("i-3"))?.claimedAt).toBeNull();
    expect(await t.ledger.claimAssignment(runnerRowId, at(32), at(2))).toBe(true);
  });

  it("gives one re-issue claim for an answered VM, none once its runner started", async () => {
    const { runnerRowId, runnerName } = await launched(t.ledger, 7);
    expect(await t.ledger.claimReissue(runnerRowId, now, at(-30))).toBe(false);
    expect(await t.ledger.claimAssignment(runnerRowId, now, at(-30))).toBe(true);
    await t.ledger.recordAssignment(runnerRowId, 9007, now);
    const claims = await Promise.all(
      Array.from({ length: 5 }, () => t.ledger.claimReissue(runnerRowId, at(2), at(-28))),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    await t.ledger.recordAssignment(runnerRowId, 9008, at(3));
    expect(await t.ledger.findAssignment("i-7")).toMatchObject({ runnerId: 9008, assignedAt: now });
    await event(t.ledger, { jobId: 7, action: "in_progress", runnerId: 9008, runnerName }, 5);
    expect(await t.ledger.claimReissue(runnerRowId, at(6), at(-24))).toBe(false);
  });

  it("gives no claim to a VM that is ending", async () => {
    const { runnerRowId } = await launched(t.ledger, 4);
    await t.ledger.markTerminating([runnerRowId], now);
    expect(await t.ledger.claimAssignment(runnerRowId, now, at(-30))).toBe(false);
    expect((await t.ledger.findAssignment("i-4"))?.state).toBe("terminating");
  });

  it("notes when GitHub first names the runner running a job, whichever job it is", async () => {
    const mine = await launched(t.ledger, 5);
    await event(t.ledger, { jobId: 6 });
    // Job 6 took job 5's runner: the runner has started all the same.
    const started = { action: "in_progress", runnerId: 9005, runnerName: mine.runnerName } as const;
    await event(t.ledger, { jobId: 6, ...started, startedAt: at(20) }, 20);
    expect((await t.ledger.findAssignment("i-5"))?.runnerStartedAt).toEqual(at(20));
    await event(t.ledger, { jobId: 6, ...started, action: "completed", conclusion: "success" }, 40);
    expect((await t.ledger.findAssignment("i-5"))?.runnerStartedAt).toEqual(at(20));
  });
});
