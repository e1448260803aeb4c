import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Secret } from "../config/secret.js";
import type { Rate } from "../core/token-bucket.js";
import { AuthError, TooManyAttemptsError } from "../errors.js";
import { PerKeyLimiter } from "./per-key-limiter.js";

/**
 * Refused attempts an address may make: 20 at once, then one every 10 s. A browser's
 * first visit to the status page is one (it asks without credentials first); guessing a
 * 32-byte token is hopeless anyway, and this keeps a scanner from trying at wire speed.
 */
export const REFUSED_ATTEMPTS: Rate = { capacity: 20, perSecond: 0.1 };

/** One count of refused attempts per address, shared by every admin route of a server. */
export function refusedAttempts(): PerKeyLimiter {
  return new PerKeyLimiter(REFUSED_ATTEMPTS);
}

/**
 * A preHandler that lets a request through only with the admin token: `Authorization:
 * Bearer TOKEN`, or Basic with TOKEN as the password (browsers ask for it on the status
 * page). Without a configured token nothing gets through. The comparison is over SHA-256
 * digests with timingSafeEqual, so neither the token's content nor its length leaks by timing.
 * An address past its refused attempts gets 429 without its token being compared at all.
 */
export function requireAdmin(
  token: Secret | undefined,
  scheme: "Bearer" | "Basic",
  refused: PerKeyLimiter = refusedAttempts(),
  now: () => number = Date.now,
) {
  const expected = token === undefined ? undefined : digest(token.reveal());
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const wait = refused.wait(request.ip, now());
    if (wait > 0) throw new TooManyAttemptsError(wait);
    const presented = presentedToken(request.headers.authorization);
    if (
      expected !== undefined &&
      presented !== undefined &&
      timingSafeEqual(digest(presented), expected)
    )
      return;
    refused.take(request.ip, now());
    void reply.header("WWW-Authenticate", `${scheme} realm="mayfly", charset="UTF-8"`);
    throw new AuthError();
  };
}

function presentedToken(header: string | undefined): string | undefined {
  const match = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header ?? "");
  if (match === null) return undefined;
  const [, scheme, value] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() === "bearer") return value;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
