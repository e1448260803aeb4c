import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Secret } from "../config/secret.js";
import { AuthError } from "../errors.js";

/**
 * A preHandler that lets a request through only with the admin token: `Authorization:
 * Bearer TOKEN`, or Basic with TOKEN as the password (browsers ask for it on the status
 * page). Without a configured token nothing gets through. The comparison is over SHA-256
 * digests with timingSafeEqual, so neither the token's content nor its length leaks by timing.
 */
export function requireAdmin(token: Secret | undefined, scheme: "Bearer" | "Basic") {
  const expected = token === undefined ? undefined : digest(token.reveal());
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const presented = presentedToken(request.headers.authorization);
    if (
      expected !== undefined &&
      presented !== undefined &&
      timingSafeEqual(digest(presented), expected)
    )
      return;
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
