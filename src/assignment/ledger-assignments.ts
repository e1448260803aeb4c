import type { PoolConfig } from "../config/fleet-schema.js";
import type { Secret } from "../config/secret.js";
import { assignmentVerdict, REPEAT_ANSWER_MS } from "../core/assignment-verdict.js";
import { GitHubError } from "../errors.js";
import type { GitHub, JitConfigRequest, JitRunner } from "../github/github.js";
import type { PoolRunnerGroups } from "../github/pool-runner-groups.js";
import type { AssignmentRow, Ledger } from "../ledger/ledger.js";
import type { Logger } from "../log/logger.js";
import type { AssignmentAnswer, Assignments } from "./assignments.js";
import type { InstanceIdentity } from "./identity-verifier.js";

/** A registration claim older than this is taken over: its claimer died or hung. */
export const STALE_CLAIM_MS = 30_000;
/** Retry-After when GitHub could not register the runner this time. */
export const GITHUB_FAILED_RETRY_AFTER_S = 5;
/** Retry-After while another request (or replica) registers this VM's runner. */
export const REGISTERING_RETRY_AFTER_S = 1;
/**
 * How long the ask of a VM whose launch is not recorded yet is held open before a 204:
 * RunInstances' answer is usually a moment behind the boot (the contract lets the
 * controller hold up to 20 s). This process's launcher says when it records a launch
 * (`launchRecorded`); a launch another replica records is looked for every HOLD_POLL_MS.
 */
export const HOLD_UNRECORDED_MS = 5000;
const HOLD_POLL_MS = 1000;

export interface LedgerAssignmentsDeps {
  readonly ledger: Pick<
    Ledger,
    | "findAssignment"
    | "claimAssignment"
    | "claimReissue"
    | "recordAssignment"
    | "releaseAssignmentClaim"
  >;
  readonly github: Pick<GitHub, "generateJitConfig" | "deleteRunner" | "findRunner">;
  readonly pools: readonly Pick<PoolConfig, "name" | "registration">[];
  /** The runner group each pool's runners register in. */
  readonly runnerGroups: Pick<PoolRunnerGroups, "groupFor">;
  /** The fleet's AWS account (undefined: not checked) and Region. */
  readonly fleet: { readonly accountId: string | undefined; readonly region: string };
  readonly now: () => Date;
  readonly logger: Logger;
  /** Default HOLD_UNRECORDED_MS; real time, whatever `now` says. */
  readonly holdUnrecordedMs?: number;
}

/**
 * The assignment service over the ledger (DESIGN.md, "Assignment"): the first ask of a
 * launched VM registers its JIT runner, once across requests and replicas (a claim in the
 * ledger), and answers it. The JIT config is kept only in this process's memory, for the
 * repeat window of a lost 200; a replica without it registers the runner again in place of
 * the first registration, which it deletes first (GitHub's 422 there means the runner
 * started, and the ask is refused).
 */
export class LedgerAssignments implements Assignments {
  readonly #answered = new Map<string, { readonly jitConfig: Secret; readonly until: number }>();
  readonly #inFlight = new Map<string, Promise<AssignmentAnswer>>();
  /** Held asks, by instance ID, woken when this process records the instance's launch. */
  readonly #waiting = new Map<string, () => void>();

  constructor(private readonly deps: LedgerAssignmentsDeps) {}

  /** Concurrent asks of one VM in this process share one answer. */
  answer(identity: InstanceIdentity): Promise<AssignmentAnswer> {
    const id = identity.instanceId;
    const running = this.#inFlight.get(id);
    if (running !== undefined) return running;
    const answer = this.#answer(identity).finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, answer);
    return answer;
  }

  async #answer(identity: InstanceIdentity): Promise<AssignmentAnswer> {
    const now = this.deps.now();
    this.#forget(now);
    let row = await this.deps.ledger.findAssignment(identity.instanceId);
    const fleet = this.deps.fleet;
    if (row === undefined && assignmentVerdict({ identity, fleet, vm: row, now }).kind === "wait")
      row = await this.#held(identity.instanceId);
    const verdict = assignmentVerdict({ identity, fleet, vm: row, now });
    if (verdict.kind === "wait" || verdict.kind === "refuse" || verdict.kind === "gone")
      return verdict;
    // The verdict registers or repeats only for a row; this narrows the type.
    if (row === undefined) return { kind: "refuse", reason: "unknown-instance" };
    if (verdict.kind === "repeat") {
      const kept = this.#answered.get(identity.instanceId);
      if (kept !== undefined) return { kind: "assigned", jitConfig: kept.jitConfig };
    }
    return this.#register(row, verdict.kind === "register" ? "first" : "again", now);
  }

  async #register(
    row: AssignmentRow,
    which: "first" | "again",
    now: Date,
  ): Promise<AssignmentAnswer> {
    const pool = this.deps.pools.find((p) => p.name === row.pool);
    const job = row.job;
    // Nothing for it to run: its job ended (the reaper ends the VM) or its pool was removed.
    if (job === null || job.ended || pool === undefined) return { kind: "gone", reason: "retired" };
    const staleBefore = new Date(now.getTime() - STALE_CLAIM_MS);
    const claimed =
      which === "first"
        ? await this.deps.ledger.claimAssignment(row.runnerRowId, now, staleBefore)
        : await this.deps.ledger.claimReissue(row.runnerRowId, now, staleBefore);
    if (!claimed) return { kind: "wait", retryAfterSeconds: REGISTERING_RETRY_AFTER_S };
    const log = this.deps.logger.child({
      instanceId: row.instanceId,
      runnerName: row.runnerName,
      jobId: job.jobId,
    });
    try {
      if (which === "again" && row.runnerId !== null) {
        const outcome = await this.deps.github.deleteRunner(
          job.installationId,
          job.org,
          row.runnerId,
          pool.registration === "repo" ? job.repository : undefined,
        );
        if (outcome === "busy") {
          await this.deps.ledger.releaseAssignmentClaim(row.runnerRowId);
          return { kind: "gone", reason: "runner-started" };
        }
      }
      const jit = await this.#generate({
        installationId: job.installationId,
        org: job.org,
        ...(pool.registration === "repo" ? { repository: job.repository } : {}),
        name: row.runnerName,
        runnerGroupId: await this.deps.runnerGroups.groupFor(
          job.installationId,
          job.org,
          pool.name,
        ),
        labels: [...job.labels],
      });
      if (jit === "busy") {
        await this.deps.ledger.releaseAssignmentClaim(row.runnerRowId);
        return { kind: "gone", reason: "runner-started" };
      }
      await this.deps.ledger.recordAssignment(row.runnerRowId, jit.runnerId, now);
      this.#answered.set(row.instanceId, {
        jitConfig: jit.jitConfig,
        until: now.getTime() + REPEAT_ANSWER_MS,
      });
      log.info(
        { runnerId: jit.runnerId, reissued: which === "again" },
        "runner registered for its VM",
      );
      return { kind: "assigned", jitConfig: jit.jitConfig };
    } catch (error) {
      await this.deps.ledger.releaseAssignmentClaim(row.runnerRowId);
      log.warn({ err: error }, "could not register the runner its VM asked for: it asks again");
      return { kind: "wait", retryAfterSeconds: GITHUB_FAILED_RETRY_AFTER_S };
    }
  }

  /** The ledger's row for a young instance, looked for again while its launch is on its way. */
  async #held(instanceId: string): Promise<AssignmentRow | undefined> {
    const until = Date.now() + (this.deps.holdUnrecordedMs ?? HOLD_UNRECORDED_MS);
    for (;;) {
      const left = until - Date.now();
      if (left <= 0) return undefined;
      // Waiting before looking again: a record made between the two is not missed.
      const woken = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(HOLD_POLL_MS, left));
        this.#waiting.set(instanceId, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const row = await this.deps.ledger.findAssignment(instanceId);
      if (row !== undefined) {
        this.#waiting.delete(instanceId);
        return row;
      }
      await woken;
      this.#waiting.delete(instanceId);
    }
  }

  /** This process's launcher recorded an instance's launch: its held ask looks now. */
  launchRecorded(instanceId: string): void {
    this.#waiting.get(instanceId)?.();
  }

  /**
   * Registers the runner. GitHub's 409 means a registration of its name exists that the
   * ledger never recorded: a claimer died between registering and recording it, and no
   * VM got its config. That one is deleted and the runner registered afresh; "busy" when
   * it runs a job after all (a config did go out: this ask is a replay).
   */
  async #generate(req: JitConfigRequest): Promise<JitRunner | "busy"> {
    try {
      return await this.deps.github.generateJitConfig(req);
    } catch (error) {
      if (!(error instanceof GitHubError) || error.status !== 409) throw error;
      const { installationId, org, name, repository } = req;
      const taken = await this.deps.github.findRunner(installationId, org, name, repository);
      if (taken !== undefined) {
        const outcome = await this.deps.github.deleteRunner(
          installationId,
          org,
          taken.id,
          repository,
        );
        if (outcome === "busy") return "busy";
      }
      return this.deps.github.generateJitConfig(req);
    }
  }

  /** Drops kept answers past their repeat window. */
  #forget(now: Date): void {
    for (const [id, kept] of this.#answered)
      if (kept.until < now.getTime()) this.#answered.delete(id);
  }
}
