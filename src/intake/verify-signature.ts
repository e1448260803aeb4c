import { verify } from "@octokit/webhooks-methods";
import type { Secret } from "../config/secret.js";
import { SignatureError } from "../errors.js";

/**
 * GitHub signs the body's bytes; Octokit's `verify` signs the UTF-8 encoding of a string. The
 * body is decoded so that encoding it again gives back the same bytes: `fatal`, because bytes
 * that are not UTF-8 would become U+FFFD and two bodies would share one signature (as with the
 * lenient decoder of @octokit/webhooks' own middleware); `ignoreBOM`, so a leading byte order
 * mark is kept and signed rather than dropped.
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Checks `X-Hub-Signature-256` against the raw body with Octokit's `verify`, once for each
 * accepted secret (several during a rotation); the comparison is constant-time.
 */
export async function verifySignature(
  rawBody: Uint8Array,
  header: string | undefined,
  secrets: readonly Secret[],
): Promise<void> {
  const signature = header?.trim();
  if (!signature) throw new SignatureError("X-Hub-Signature-256 is missing");
  let payload: string;
  try {
    payload = UTF8.decode(rawBody);
  } catch {
    throw new SignatureError("the body is not UTF-8, so it cannot be GitHub's signed JSON");
  }
  // `verify` throws on an empty payload; no webhook of GitHub's has one.
  if (payload === "") throw new SignatureError("the body is empty");
  // Every secret is checked, so timing does not tell which one matched.
  const matches = await Promise.all(secrets.map((s) => verify(s.reveal(), payload, signature)));
  if (!matches.includes(true)) throw new SignatureError("X-Hub-Signature-256 does not match");
}
