import type { SimInstance } from "./sim-instance.js";

/** The namespace of every EC2 Query API answer. */
export const EC2_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/";

/** Escapes text content (the sim writes no attribute values from input). */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `<name>text</name>`, or nothing when the value is absent. */
export function el(name: string, value: string | number | boolean | null | undefined): string {
  return value === null || value === undefined
    ? ""
    : `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A list in EC2's shape: `<name><item>..</item>..</name>`. */
export function items(name: string, children: readonly string[]): string {
  return `<${name}>${children.map((c) => `<item>${c}</item>`).join("")}</${name}>`;
}

/** An answer's envelope: `<ActionResponse xmlns=..><requestId>..</requestId>..`. */
export function response(action: string, requestId: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}">${el("requestId", requestId)}${body}</${action}Response>`;
}

/**
 * EC2's error shape, which differs from other Query APIs.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html#api-error-response
 */
export function errorResponse(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el("Code", code)}${el("Message", message)}</Error></Errors>${el("RequestID", requestId)}</Response>`;
}

const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** `<instanceState>` and the like: EC2 names a state by a code and a name. */
export function stateXml(name: string, status: string): string {
  return `<${name}>${el("code", STATE_CODES[status] ?? 0)}${el("name", status)}</${name}>`;
}

/** One instance as DescribeInstances and RunInstances describe it (the fields we read). */
export function instanceXml(i: SimInstance, status: string): string {
  const tags = items(
    "tagSet",
    Object.entries(i.tags).map(([k, v]) => `${el("key", k)}${el("value", v)}`),
  );
  const reason =
    i.stateReason === null
      ? ""
      : `<stateReason>${el("code", i.stateReason.code)}${el("message", i.stateReason.message)}</stateReason>`;
  return [
    el("instanceId", i.instanceId),
    el("imageId", i.imageId),
    stateXml("instanceState", status),
    el("reason", i.stateTransitionReason),
    el("instanceType", i.instanceType),
    el("launchTime", new Date(i.launchedAtMs).toISOString()),
    `<placement>${el("availabilityZone", i.availabilityZone)}${el("tenancy", "default")}</placement>`,
    el("subnetId", i.subnetId),
    i.market === "spot" ? el("instanceLifecycle", "spot") : "",
    reason,
    tags,
  ].join("");
}
