import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AssignmentFacts,
  assignmentVerdict,
  LAUNCH_TIME_TOLERANCE_MS,
  REPEAT_ANSWER_MS,
  UNRECORDED_LAUNCH_MS,
} from "../../src/core/assignment-verdict.js";

const STATES = ["launching", "running", "terminating", "terminated"] as const;
const launched = new Date("2026-12-03T06:00:00Z");
const at = (ms: number) => new Date(launched.getTime() + ms);
const identity = {
  accountId: "123456789012",
  region: "eu-west-1",
  instanceId: "i-0123456789abcdef0",
  pendingTime: launched,
};
const fleet = { accountId: "123456789012", region: "eu-west-1" };
const vm = {
  state: "launching" as const,
  launchedAt: launched,
  assignedAt: null,
  runnerStartedAt: null,
};
const facts = (over: Partial<AssignmentFacts> = {}): AssignmentFacts => ({
  identity,
  fleet,
  vm,
  now: at(30_000),
  ...over,
});

describe("assignment verdict", () => {
  it("registers a launched VM's runner on its first ask", () => {
    expect(assignmentVerdict(facts())).toEqual({ kind: "register" });
    expect(assignmentVerdict(facts({ vm: { ...vm, state: "running" } }))).toEqual({
      kind: "register",
    });
  });

  it("refuses another account or Region before it looks at the ledger", () => {
    const other = { ...identity, accountId: "210987654321" };
    expect(assignmentVerdict(facts({ identity: other }))).toEqual({
      kind: "refuse",
      reason: "other-account",
    });
    expect(
      assignmentVerdict(facts({ identity: { ...identity, region: "us-east-1" }, vm: undefined })),
    ).toEqual({ kind: "refuse", reason: "other-region" });
    // An account not configured is not checked; the Region always is.
    expect(
      assignmentVerdict(facts({ identity: other, fleet: { ...fleet, accountId: undefined } })),
    ).toEqual({ kind: "register" });
  });

  it("tells an unknown young instance to wait, and refuses an old one", () => {
    expect(assignmentVerdict(facts({ vm: undefined, now: at(UNRECORDED_LAUNCH_MS) }))).toEqual({
      kind: "wait",
      retryAfterSeconds: 2,
    });
    expect(assignmentVerdict(facts({ vm: undefined, now: at(UNRECORDED_LAUNCH_MS + 1) }))).toEqual({
      kind: "refuse",
      reason: "unknown-instance",
    });
  });

  it("refuses a document whose pendingTime is not the recorded launch", () => {
    const far = { ...identity, pendingTime: at(-LAUNCH_TIME_TOLERANCE_MS - 1) };
    expect(assignmentVerdict(facts({ identity: far }))).toEqual({
      kind: "refuse",
      reason: "launch-time-mismatch",
    });
    const near = { ...identity, pendingTime: at(LAUNCH_TIME_TOLERANCE_MS) };
    expect(assignmentVerdict(facts({ identity: near }))).toEqual({ kind: "register" });
    // A row whose launch time is not recorded yet is not compared.
    const unrecorded = { ...vm, launchedAt: null };
    expect(assignmentVerdict(facts({ identity: far, vm: unrecorded }))).toEqual({
      kind: "register",
    });
  });

  it("answers a lost 200 again for a minute, then 410; 410 at once once the runner started", () => {
    const answered = { ...vm, assignedAt: at(10_000) };
    expect(assignmentVerdict(facts({ vm: answered, now: at(10_000 + REPEAT_ANSWER_MS) }))).toEqual({
      kind: "repeat",
    });
    expect(
      assignmentVerdict(facts({ vm: answered, now: at(10_000 + REPEAT_ANSWER_MS + 1) })),
    ).toEqual({ kind: "gone", reason: "answered-long-ago" });
    expect(
      assignmentVerdict(
        facts({ vm: { ...answered, runnerStartedAt: at(20_000) }, now: at(21_000) }),
      ),
    ).toEqual({ kind: "gone", reason: "runner-started" });
  });

  it("tells a VM being retired to power off", () => {
    for (const state of ["terminating", "terminated"] as const)
      expect(assignmentVerdict(facts({ vm: { ...vm, state } }))).toEqual({
        kind: "gone",
        reason: "retired",
      });
  });

  it("never answers a credential to a VM whose runner started, or of another account or Region", () => {
    const date = fc.integer({ min: -600_000, max: 600_000 }).map(at);
    fc.assert(
      fc.property(
        fc.record({
          account: fc.constantFrom("123456789012", "210987654321"),
          region: fc.constantFrom("eu-west-1", "us-east-1"),
          known: fc.boolean(),
          state: fc.constantFrom(...STATES),
          assignedAt: fc.option(date),
          runnerStartedAt: fc.option(date),
          now: date,
        }),
        (c) => {
          const verdict = assignmentVerdict({
            identity: { ...identity, accountId: c.account, region: c.region },
            fleet,
            vm: c.known
              ? {
                  state: c.state,
                  launchedAt: launched,
                  assignedAt: c.assignedAt,
                  runnerStartedAt: c.runnerStartedAt,
                }
              : undefined,
            now: c.now,
          });
          const answers = verdict.kind === "register" || verdict.kind === "repeat";
          if (
            c.runnerStartedAt !== null ||
            c.account !== fleet.accountId ||
            c.region !== fleet.region ||
            !c.known
          )
            expect(answers).toBe(false);
          if (verdict.kind === "repeat") expect(c.assignedAt).not.toBeNull();
        },
      ),
    );
  });
});
