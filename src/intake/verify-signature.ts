import { createHmac, timingSafeEqual } from "node:crypto";
import type { Secret } from "../config/secret.js";
import { SignatureError } from "../errors.js";

const HEADER = /^sha256=([0-9a-f]{64})$/;

/**
 * Checks `X-Hub-Signature-256` against the raw body bytes, for each accepted secret (several
 * during a rotation), in constant time. We hash the exact bytes GitHub sent rather than a
 * re-encoded string: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 */
export function verifySignature(
  rawBody: Uint8Array,
  header: string | undefined,
  secrets: readonly Secret[],
): void {
  const match = header === undefined ? null : HEADER.exec(header.trim());
  if (match === null) throw new SignatureError("X-Hub-Signature-256 is missing or malformed");
  const given = Buffer.from(match[1] as string, "hex");
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac("sha256", secret.reveal()).update(rawBody).digest();
    // Every secret is checked, so timing does not tell which one matched.
    valid = timingSafeEqual(expected, given) || valid;
  }
  if (!valid) throw new SignatureError("X-Hub-Signature-256 does not match");
}
