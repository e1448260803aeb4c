import type { Secret } from "../config/secret.js";
import { MediaTypeError, PayloadError } from "../errors.js";
import { type JobDeliveryDeps, recordJobDelivery } from "./record-job-delivery.js";
import { verifySignature } from "./verify-signature.js";

/** One webhook request as it arrived, headers by their meaning. */
export interface WebhookRequest {
  readonly rawBody: Uint8Array;
  readonly contentType: string | undefined;
  readonly signature: string | undefined;
  readonly event: string | undefined;
  readonly deliveryId: string | undefined;
}

export interface WebhookDeps extends JobDeliveryDeps {
  readonly webhookSecrets: readonly Secret[];
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
  await verifySignature(req.rawBody, req.signature, deps.webhookSecrets);
  const event = req.event?.trim();
  if (!event) throw new PayloadError("X-GitHub-Event is missing");
  const deliveryId = req.deliveryId?.trim();
  if (!deliveryId || !DELIVERY_ID.test(deliveryId)) {
    throw new PayloadError("X-GitHub-Delivery is missing or not a delivery ID");
  }
  const body = parseBody(req.rawBody, req.contentType);

  if (event === "ping") return { outcome: "pong", log: { deliveryId, event } };
  return recordJobDelivery(deliveryId, event, body, deps);
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
