import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJobEvent, workflowJobPayload } from "../../src/intake/workflow-job-payload.js";
import { needPostgres } from "../support/need-postgres.js";
import { type LedgerKind, type TestLedger, testLedger } from "../support/test-ledger.js";

const postgres = needPostgres(
  "the PostgreSQL payload property (test/ledger/payload-storable.test.ts)",
);
const postgresUrl = postgres.url;
const kinds: LedgerKind[] = ["pglite", "postgresql"];

// One UTF-16 unit or code point at a time, weighted towards what PostgreSQL refuses or
// rewrites: U+0000, lone surrogates (JSON's "\ud800" parses to one), and ASCII controls.
const unit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  },
  { weight: 1, arbitrary: fc.constant("\u0000") },
);
// Mostly ordinary text, so that whole payloads pass often enough to be stored.
const text = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit, minLength: 1, maxLength: 12 }) },
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });

/** A workflow_job payload whose every string is arbitrary; the schema decides what passes. */
const payload = fc.record({
  action: fc.constantFrom("queued", "waiting", "in_progress", "completed"),
  workflow_job: fc.record({
    id: fc.constant(0), // replaced by a fresh job ID per run
    run_id: fc.integer({ min: 1, max: 2 ** 40 }),
    name: text,
    workflow_name: maybe(text),
    head_branch: maybe(text),
    head_sha: fc.constantFrom("a".repeat(40), "0123456789abcdef".repeat(4)),
    labels: fc.array(text, { maxLength: 5 }),
    conclusion: maybe(text),
    runner_id: maybe(fc.integer({ min: 1, max: 1000 })),
    runner_name: maybe(text),
  }),
  repository: fc.record({
    full_name: fc
      .tuple(
        fc.oneof(fc.stringMatching(/^[\w.-]{1,12}$/), text),
        fc.stringMatching(/^[\w.-]{1,12}$/),
      )
      .map(([o, r]) => `${o}/${r}`),
    owner: fc.record({ login: text }),
  }),
  organization: maybe(fc.record({ login: text })),
  installation: fc.constant({ id: 77 }),
});

describe.each(kinds)("every payload the schema accepts, %s stores as sent", (kind) => {
  const unavailable = kind === "postgresql" && !postgresUrl;
  let t: TestLedger;

  beforeAll(async () => {
    if (unavailable) return;
    t = await testLedger(kind, postgresUrl);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("records it and reads back the same strings", async (ctx) => {
    if (unavailable) {
      ctx.skip(postgres.why);
    }
    let nextJob = 1;
    let accepted = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(payload, async (raw) => {
        const jobId = nextJob++;
        // As intake sees it: the JSON text GitHub sent, parsed.
        const body: unknown = JSON.parse(
          JSON.stringify({ ...raw, workflow_job: { ...raw.workflow_job, id: jobId } }),
        );
        const parsed = workflowJobPayload.safeParse(body);
        if (!parsed.success) {
          rejected++;
          return;
        }
        accepted++;
        const event = toJobEvent(parsed.data);
        const outcome = await t.ledger.ingest(
          { id: `delivery-${jobId}`, event: "workflow_job", receivedAt: new Date() },
          event,
          "linux-4cpu",
        );
        expect(outcome).toBe("recorded");
        expect(await t.ledger.getJob(jobId)).toMatchObject({
          jobName: event.jobName,
          workflowName: event.workflowName,
          headBranch: event.headBranch,
          labels: event.labels,
          org: event.org,
          repository: event.repository,
          runnerName: event.runnerName,
        });
      }),
      { numRuns: 300 },
    );
    console.info(`${kind}: ${accepted} payloads accepted and stored, ${rejected} rejected`);
    // Both sides of the rule were exercised.
    expect(accepted).toBeGreaterThan(30);
    expect(rejected).toBeGreaterThan(30);
  }, 120_000);
});
