import { MayflyError } from "../errors.js";
import type { DeliveryPayload, DeliverySummary, GitHub } from "../github/github.js";
import { type JobDeliveryDeps, recordJobDelivery } from "../intake/record-job-delivery.js";
import { JOB_ACTIONS } from "../intake/workflow-job-payload.js";
import type { Logger } from "../log/logger.js";

/** What a recovery pass works with: the intake's needs, GitHub's delivery log and a log. */
export interface RecoveryDeps extends JobDeliveryDeps {
  readonly github: GitHub;
  readonly logger: Logger;
}

/** What one pass leaves for the next; the reconciler keeps one across its passes. */
export interface RecoveryProgress {
  /** GitHub's time up to which the log has been gone through; undefined before a first pass. */
  resumeFrom: Date | undefined;
  /** Deliveries fetched that the ledger does not keep (not our jobs), by GUID. */
  readonly settled: Map<string, Date>;
}

export interface RecoveryOptions {
  /** Payloads fetched at most this pass: each costs one GitHub API request. */
  readonly maxFetches: number;
  /**
   * How far before the first cursor, taken from the ledger's receipt times, to look: our
   * clock and GitHub's differ. Default 10 min.
   */
  readonly overlapMs?: number;
  /**
   * How long after its delivery time an entry may still appear in the log (GitHub logs a
   * delivery once it is answered, within 10 s; GHES 30 s). Each pass lists again only the
   * deliveries this much older than the previous listing. Default 60 s.
   */
  readonly lateMs?: number;
  /** How far back to look at most, and with nothing recorded. Default 3 days. */
  readonly lookbackMs?: number;
  /**
   * Only deliveries received before this (the process start) set the first cursor, so that
   * webhooks received since a restart do not hide the gap before it.
   */
  readonly recordedBefore?: Date;
  readonly progress?: RecoveryProgress;
}

export interface RecoveryCounts {
  /** Log entries since the cursor, any event. */
  readonly listed: number;
  /** Job deliveries the log shows we answered with 2xx: received, so not fetched. */
  readonly answered: number;
  readonly fetched: number;
  readonly recorded: number;
  /** Fetched but not recorded: not our job, already recorded meanwhile, or not applicable. */
  readonly skipped: number;
  /** Fetches that failed: those deliveries are tried again on a later pass. */
  readonly unfetched: number;
  /** Unknown deliveries left for a later pass by the fetch budget. */
  readonly left: number;
}

const MINUTE = 60_000;
// GitHub.com keeps an App's deliveries for 3 days (GHES 3.16+: 7 days), so older ones are
// gone anyway: https://docs.github.com/en/webhooks/testing-and-troubleshooting-webhooks/redelivering-webhooks
const LOG_RETENTION_MS = 3 * 24 * 60 * MINUTE;
const DEFAULT_LATE_MS = MINUTE;

/**
 * Records the `workflow_job` deliveries GitHub logged but the ledger never got (GitHub does
 * not redeliver failed ones by itself), oldest first, through the same intake as HTTP.
 * A redelivery shares its original's GUID, so each GUID is fetched once at most, and not at
 * all when the log shows we answered it 2xx (FIELD-NOTES.md: "a 2xx there was answered by us").
 */
export async function recoverDeliveries(
  deps: RecoveryDeps,
  options: RecoveryOptions,
): Promise<RecoveryCounts> {
  const now = deps.now().getTime();
  const floor = now - (options.lookbackMs ?? LOG_RETENTION_MS);
  const progress = options.progress;
  const since = new Date(Math.max(await startOfWalk(deps, options), floor));

  let listed = 0;
  // GitHub's clock at the walk's first page, else its newest entry: entries delivered more
  // than `lateMs` before it are all in the log by now.
  let listedAt: Date | undefined;
  const byGuid = new Map<string, DeliverySummary>();
  // A GUID is logged once per attempt (redeliveries share it); one 2xx among them is enough.
  const answered = new Set<string>();
  for await (const d of deps.github.listDeliveries(since)) {
    listed += 1;
    listedAt ??= d.listedAt ?? d.deliveredAt;
    if (d.event !== "workflow_job") continue;
    if (d.action !== null && !(JOB_ACTIONS as readonly string[]).includes(d.action)) continue;
    // Intake answers 2xx only once the delivery is recorded, or known not to be ours.
    if (d.statusCode >= 200 && d.statusCode < 300) answered.add(d.guid);
    if (progress?.settled.has(d.guid)) continue;
    // Newest first: the last entry kept for a GUID is its first delivery.
    byGuid.set(d.guid, d);
  }
  for (const guid of answered) byGuid.delete(guid);
  const known = await deps.ledger.knownDeliveries([...byGuid.keys()]);
  const unknown = [...byGuid.values()]
    .filter((d) => !known.has(d.guid))
    .sort((a, b) => a.deliveredAt.getTime() - b.deliveredAt.getTime() || a.id - b.id);
  const batch = unknown.slice(0, Math.max(0, options.maxFetches));

  let recorded = 0;
  let skipped = 0;
  let unfetched: DeliverySummary | undefined;
  let unfetchedCount = 0;
  for (const d of batch) {
    const outcome = await recordFromLog(d, deps);
    if (outcome === "unfetched") {
      unfetched ??= d;
      unfetchedCount += 1;
      continue;
    }
    if (outcome === "recorded") recorded += 1;
    else skipped += 1;
    if (outcome === "ignored") progress?.settled.set(d.guid, d.deliveredAt);
  }

  const left = unknown.length - batch.length;
  if (progress !== undefined) {
    // The next pass starts at the first delivery left over, or where entries may still be
    // logged late, whichever is earlier; an empty walk leaves the cursor where it was.
    const complete =
      listedAt === undefined
        ? undefined
        : new Date(listedAt.getTime() - (options.lateMs ?? DEFAULT_LATE_MS));
    const leftOver = earlier(unfetched?.deliveredAt, unknown[batch.length]?.deliveredAt);
    progress.resumeFrom = earlier(leftOver, complete) ?? progress.resumeFrom;
    for (const [guid, at] of progress.settled) if (at < since) progress.settled.delete(guid);
  }
  const counts = {
    listed,
    answered: answered.size,
    fetched: batch.length - unfetchedCount,
    recorded,
    skipped,
    unfetched: unfetchedCount,
    left,
  };
  deps.logger.info({ loop: "recover-deliveries", since, ...counts }, "deliveries recovered");
  return counts;
}

/** Where a pass starts listing: the previous pass's cursor, else the ledger's newest receipt. */
async function startOfWalk(deps: RecoveryDeps, options: RecoveryOptions): Promise<number> {
  const resumeFrom = options.progress?.resumeFrom;
  if (resumeFrom !== undefined) return resumeFrom.getTime();
  const received = await deps.ledger.latestDeliveryAt(options.recordedBefore);
  if (received === undefined) return Number.NEGATIVE_INFINITY;
  return received.getTime() - (options.overlapMs ?? 10 * MINUTE);
}

function earlier(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return a < b ? a : b;
}

/**
 * Fetches one logged delivery and applies it. A failed fetch is left for a later pass; a
 * delivery that fetched but cannot be applied, whatever the error, is remembered in the
 * ledger as skipped, so that no pass fetches it again and it never holds up the others.
 */
async function recordFromLog(
  d: DeliverySummary,
  deps: RecoveryDeps,
): Promise<"recorded" | "duplicate" | "ignored" | "skipped" | "unfetched"> {
  const ids = { loop: "recover-deliveries", deliveryId: d.guid, logId: d.id };
  let fetched: DeliveryPayload;
  try {
    fetched = await deps.github.getDeliveryPayload(d.id);
  } catch (error) {
    deps.logger.warn({ ...ids, err: error }, "could not fetch a logged delivery; retried later");
    return "unfetched";
  }
  try {
    return (await recordJobDelivery(d.guid, fetched.event, fetched.payload, deps)).outcome;
  } catch (error) {
    if (isTransient(error)) {
      deps.logger.warn(
        { ...ids, event: fetched.event, code: sqlStateOf(error) },
        "could not apply a logged delivery now; retried later",
      );
      return "unfetched";
    }
    const reason = reasonOf(error);
    await deps.ledger.skipDelivery(d.guid, reason, deps.now());
    // IDs and a code only: the body may hold anything, and messages quote parts of it.
    deps.logger.warn(
      { ...ids, event: fetched.event, reason },
      "logged delivery cannot be applied; skipped",
    );
    return "skipped";
  }
}

/** A reason code for a delivery that could not be applied: never a message. */
function reasonOf(error: unknown): string {
  if (error instanceof MayflyError) return error.code;
  const sqlState = sqlStateOf(error);
  return sqlState === undefined ? "APPLY_FAILED" : `SQLSTATE_${sqlState}`;
}

/** node-postgres and PGlite errors carry the SQLSTATE, e.g. 22021 for U+0000 in text. */
function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

// Classes that say "not now" rather than "never": connection (08), transaction rollback such
// as a deadlock or serialization failure (40), insufficient resources (53), operator
// intervention (57), lock not available (55P03).
// https://www.postgresql.org/docs/current/errcodes-appendix.html
const TRANSIENT_SQLSTATE = /^(08|40|53|57)|^55P03$/;

/** An error that says the database could not take the delivery now, not that it never can. */
function isTransient(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined) return TRANSIENT_SQLSTATE.test(sqlState);
  // A connection that failed or dropped: node's system error codes (ECONNRESET, ...).
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}
