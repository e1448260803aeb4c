import type { Secret } from "../config/secret.js";
import type { JobAction } from "../core/job.js";
import { choosePool, type PoolLabels } from "../core/pool-choice.js";
import { MediaTypeError, PayloadError } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import { verifySignature } from "./verify-signature.js";
import { JOB_ACTIONS, toJobEvent, workflowJobPayload } from "./workflow-job-payload.js";

/** One webhook request as it arrived, headers by their meaning. */
export interface WebhookRequest {
  readonly rawBody: Uint8Array;
  readonly contentType: string | undefined;
  readonly signature: string | undefined;
  readonly event: string | undefined;
  readonly deliveryId: string | undefined;
}

export interface WebhookDeps {
  readonly ledger: Ledger;
  readonly webhookSecrets: readonly Secret[];
  readonly pools: readonly PoolLabels[];
  readonly bindingLabelPrefix: string;
  readonly now: () => Date;
  /** Told when a job event was recorded: a queued job wakes the dispatcher, an ended one the reaper. */
  readonly onJobRecorded?: (action: JobAction) => void;
}

export type WebhookOutcome = "recorded" | "duplicate" | "ignored" | "pong";

export interface WebhookResult {
  readonly outcome: WebhookOutcome;
  /** Facts for the log line: IDs and names, never the body. */
  readonly log: Record<string, unknown>;
}

// GitHub's delivery GUID; anything else cannot be a dedup key we trust.
const DELIVERY_ID = /^[0-9A-Za-z-]{1,64}$/;

/**
 * Verifies, validates and records one delivery. Throws SignatureError (nothing read),
 * PayloadError or MediaTypeError (nothing stored); ledger failures propagate.
 */
export async function handleWebhook(
  req: WebhookRequest,
  deps: WebhookDeps,
): Promise<WebhookResult> {
  verifySignature(req.rawBody, req.signature, deps.webhookSecrets);
  const event = req.event?.trim();
  if (!event) throw new PayloadError("X-GitHub-Event is missing");
  const deliveryId = req.deliveryId?.trim();
  if (!deliveryId || !DELIVERY_ID.test(deliveryId)) {
    throw new PayloadError("X-GitHub-Delivery is missing or not a delivery ID");
  }
  const log: Record<string, unknown> = { deliveryId, event };
  const body = parseBody(req.rawBody, req.contentType);

  if (event === "ping") return { outcome: "pong", log };
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
  const pool = choosePool(
    jobEvent.labels,
    jobEvent.repository,
    deps.pools,
    deps.bindingLabelPrefix,
  );
  const outcome = await deps.ledger.ingest(
    { id: deliveryId, event, receivedAt: deps.now() },
    jobEvent,
    pool?.name ?? null,
  );
  if (outcome === "recorded") deps.onJobRecorded?.(jobEvent.action);
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

function parseBody(raw: Uint8Array, contentType: string | undefined): unknown {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  let text = Buffer.from(raw).toString("utf8");
  if (type === "application/x-www-form-urlencoded") {
    // A webhook set to "application/x-www-form-urlencoded" sends the JSON as `payload=`.
    const payload = new URLSearchParams(text).get("payload");
    if (payload === null) throw new PayloadError("form body has no payload field");
    text = payload;
  } else if (type !== "application/json") {
    throw new MediaTypeError("expected Content-Type: application/json");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PayloadError("the body is not valid JSON", { cause: error });
  }
}
