import type { JobEvent } from "../core/job.js";
import { choosePool, type PoolLabels } from "../core/pool-choice.js";
import { PayloadError } from "../errors.js";
import type { IngestOutcome, Ledger } from "../ledger/ledger.js";
import {
  isPublicRepository,
  JOB_ACTIONS,
  toJobEvent,
  workflowJobPayload,
} from "./workflow-job-payload.js";

/** What recording a job delivery needs, whether it came by HTTP or from the delivery log. */
export interface JobDeliveryDeps {
  readonly ledger: Ledger;
  readonly pools: readonly PoolLabels[];
  readonly bindingLabelPrefix: string;
  /** The installations (IDs) and organisations (logins) whose jobs are ours; absent: all. */
  readonly installations?: readonly (number | string)[] | undefined;
  readonly now: () => Date;
  /** Told when a job event was recorded (with the job's pool, null if none of ours). */
  readonly onJobRecorded?: (event: JobEvent, pool: string | null) => void;
}

export interface JobDeliveryResult {
  readonly outcome: IngestOutcome;
  /** Facts for the log line: IDs and names, never the body. */
  readonly log: Record<string, unknown>;
}

/**
 * Validates the parsed body of one delivery, chooses its pool and records it under its
 * delivery ID (the dedup key). Events and actions mayfly does not handle are "ignored";
 * a malformed `workflow_job` throws PayloadError with nothing stored.
 */
export async function recordJobDelivery(
  deliveryId: string,
  event: string,
  body: unknown,
  deps: JobDeliveryDeps,
): Promise<JobDeliveryResult> {
  const log: Record<string, unknown> = { deliveryId, event };
  if (event !== "workflow_job")
    return { outcome: "ignored", log: { ...log, reason: "event not handled" } };

  const action = (body as { action?: unknown } | null)?.action;
  log.action = action;
  if (typeof action !== "string" || !(JOB_ACTIONS as readonly string[]).includes(action)) {
    if (typeof action !== "string")
      throw new PayloadError("workflow_job payload: action: required");
    return { outcome: "ignored", log: { ...log, reason: "action not handled" } };
  }
  const parsed = workflowJobPayload.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join(".") || "(body)"}: ${i.message}`,
    );
    throw new PayloadError(`workflow_job payload: ${problems.slice(0, 5).join("; ")}`);
  }
  const jobEvent = toJobEvent(parsed.data);
  if (!installationAllowed(jobEvent, deps.installations))
    return {
      outcome: "ignored",
      log: {
        ...log,
        jobId: jobEvent.jobId,
        installationId: jobEvent.installationId,
        org: jobEvent.org,
        reason: "installation not in the fleet's installations",
      },
    };
  const pool = choosePool(
    jobEvent.labels,
    jobEvent.repository,
    deps.pools,
    deps.bindingLabelPrefix,
    isPublicRepository(parsed.data),
  );
  const outcome = await deps.ledger.ingest(
    { id: deliveryId, event, receivedAt: deps.now() },
    jobEvent,
    pool?.name ?? null,
  );
  if (outcome === "recorded") deps.onJobRecorded?.(jobEvent, pool?.name ?? null);
  return {
    outcome,
    log: {
      ...log,
      jobId: jobEvent.jobId,
      runId: jobEvent.runId,
      pool: pool?.name ?? null,
      outcome,
    },
  };
}

/** A delivery of an installation or organisation the fleet file lists (any, without a list). */
function installationAllowed(
  event: { readonly installationId: number | null; readonly org: string },
  allowed: readonly (number | string)[] | undefined,
): boolean {
  if (allowed === undefined) return true;
  const org = event.org.toLowerCase();
  return allowed.some((a) =>
    typeof a === "number" ? a === event.installationId : a.toLowerCase() === org,
  );
}
