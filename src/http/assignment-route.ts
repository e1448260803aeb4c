import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import type { Assignments } from "../assignment/assignments.js";
import type { IdentityVerifier } from "../assignment/identity-verifier.js";
import type { RefusalReason } from "../core/assignment-verdict.js";
import type { Rate } from "../core/token-bucket.js";
import { PayloadError } from "../errors.js";
import { PerKeyLimiter } from "./per-key-limiter.js";

/** The contract's body cap (DESIGN.md, "The assignment endpoint"). */
export const ASSIGNMENT_BODY_LIMIT_BYTES = 16 * 1024;
/**
 * Asks per instance: a VM asks once, and again on a 204 (every Retry-After, 2 s) or after a
 * lost answer; ten at once and one every two seconds is more than it ever needs.
 */
export const ASSIGNMENT_RATE: Rate = { capacity: 10, perSecond: 0.5 };

const bodySchema = z.object({ document: z.string().min(1), signature: z.string().min(1) });

export interface AssignmentRouteDeps {
  readonly verifier: IdentityVerifier;
  readonly assignments: Assignments;
  readonly now: () => Date;
  /** Told of each 403 and 410, for `mayfly_assignment_refusals_total{reason}`. */
  readonly onRefusal?: (reason: RefusalReason) => void;
  readonly rate?: Rate;
}

/** The body as the contract has it, or a 400 naming what is wrong. */
function readBody(raw: unknown): z.infer<typeof bodySchema> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.isBuffer(raw) ? raw.toString("utf8") : "");
  } catch {
    throw new PayloadError("the body is not JSON");
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".")))];
    throw new PayloadError(
      `the body needs "document" and "signature" strings (${fields.join(", ")})`,
    );
  }
  return parsed.data;
}

/**
 * `POST /runner/v1/assignment`: a runner VM proves who it is with its EC2 identity document
 * and signature and gets its JIT config once. The credential is in the 200's body only: never
 * in a log line (the request log carries no bodies) or an error.
 */
export function assignmentRoute(deps: AssignmentRouteDeps): FastifyPluginAsync {
  const limiter = new PerKeyLimiter(deps.rate ?? ASSIGNMENT_RATE);
  return async (app) => {
    app.post(
      "/runner/v1/assignment",
      { bodyLimit: ASSIGNMENT_BODY_LIMIT_BYTES },
      async (request, reply) => {
        const body = readBody(request.body);
        const check = deps.verifier.verifyIdentity(body.document, body.signature);
        if (!check.ok) throw check.error;
        const { instanceId } = check.identity;
        const log = request.log.child({ instanceId });
        void reply.header("cache-control", "no-store");
        const wait = limiter.take(instanceId, deps.now().getTime());
        if (wait > 0) {
          log.warn({ retryAfterSeconds: wait }, "assignment asked too often");
          return reply
            .code(429)
            .header("retry-after", String(wait))
            .send({ error: "TOO_MANY_REQUESTS", message: "too many requests for this instance" });
        }
        const answer = await deps.assignments.answer(check.identity);
        switch (answer.kind) {
          case "assigned":
            log.info("assignment answered");
            return reply.code(200).send({ jitConfig: answer.jitConfig.reveal() });
          case "wait":
            return reply.code(204).header("retry-after", String(answer.retryAfterSeconds)).send();
          case "refuse":
            deps.onRefusal?.(answer.reason);
            log.warn({ reason: answer.reason }, "assignment refused: not a VM of this fleet");
            return reply
              .code(403)
              .send({ error: "NOT_OURS", message: `not a VM of this fleet (${answer.reason})` });
          case "gone":
            deps.onRefusal?.(answer.reason);
            // A VM whose runner has started asking again: a copy of its document and signature
            // is being replayed, or something on it is asking for a second credential.
            log.warn({ reason: answer.reason }, "assignment refused: already assigned or retired");
            return reply
              .code(410)
              .send({ error: "GONE", message: `no assignment for this VM (${answer.reason})` });
        }
      },
    );
  };
}
