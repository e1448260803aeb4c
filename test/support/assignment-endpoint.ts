import type { AddressInfo } from "node:net";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AssignmentAnswer } from "../../src/assignment/assignments.js";
import { createIdentityVerifier } from "../../src/assignment/create-identity-verifier.js";
import type { InstanceIdentity } from "../../src/assignment/identity-verifier.js";
import type { TrustedCertificate } from "../../src/assignment/trusted-certificate.js";
import type { Rate } from "../../src/core/token-bucket.js";
import { assignmentRoute } from "../../src/http/assignment-route.js";
import { errorHandler } from "../../src/http/error-handler.js";
import { memoryLogger } from "./fixtures.js";

export type AssignmentEndpointOptions = {
  /** The certificates the real verifier trusts. */
  readonly trusted: readonly TrustedCertificate[];
  /** What the assignment service answers an instance's `nth` verified ask (from 1). */
  readonly answer: (identity: InstanceIdentity, nth: number) => AssignmentAnswer;
  /** Serve https with this key and certificate instead of http. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** The route's clock (its per-instance rate limit reads it). */
  readonly now?: () => Date;
  readonly rate?: Rate;
};

export type AssignmentEndpoint = {
  readonly port: number;
  /** http(s)://127.0.0.1:PORT/runner/v1/assignment */
  readonly url: string;
  /** Every request body as it arrived, before the route read it. */
  readonly bodies: Buffer[];
  /** The status of every answer, in order. */
  readonly statuses: number[];
  /** The instance IDs the assignment service was asked for (verified asks only). */
  readonly asked: string[];
  /** What the endpoint logged. */
  logLines(): string;
  close(): Promise<void>;
};

/**
 * The controller's real `POST /runner/v1/assignment` route (with its verifier, body limit,
 * rate limit and error mapping) in a bare Fastify app on 127.0.0.1, in front of a test
 * assignment service: a runner VM's boot script talks to exactly what production serves.
 */
export async function assignmentEndpoint(
  o: AssignmentEndpointOptions,
): Promise<AssignmentEndpoint> {
  const log = memoryLogger("info");
  const bodies: Buffer[] = [];
  const statuses: number[] = [];
  const asked: string[] = [];
  const app = Fastify({
    loggerInstance: log.logger as FastifyBaseLogger,
    ...(o.tls === undefined ? {} : { https: { key: o.tls.key, cert: o.tls.cert } }),
  }) as unknown as FastifyInstance;
  // As buildApp has it: the route reads the raw bytes, and errors map in one place.
  app.setErrorHandler(errorHandler);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(["application/json"], { parseAs: "buffer" }, (_request, body, done) =>
    done(null, body),
  );
  app.addHook("preHandler", async (request) => {
    if (Buffer.isBuffer(request.body)) bodies.push(request.body);
  });
  app.addHook("onResponse", async (_request, reply) => {
    statuses.push(reply.statusCode);
  });
  app.register(
    assignmentRoute({
      verifier: createIdentityVerifier(o.trusted),
      assignments: {
        answer: async (identity) => {
          asked.push(identity.instanceId);
          return o.answer(identity, asked.filter((id) => id === identity.instanceId).length);
        },
      },
      now: o.now ?? (() => new Date()),
      ...(o.rate === undefined ? {} : { rate: o.rate }),
    }),
  );
  await app.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const scheme = o.tls === undefined ? "http" : "https";
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}/runner/v1/assignment`,
    bodies,
    statuses,
    asked,
    logLines: log.lines,
    close: () => app.close(),
  };
}
