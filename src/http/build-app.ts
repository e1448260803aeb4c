import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Secret } from "../config/secret.js";
import type { JobAction } from "../core/job.js";
import type { PoolLabels } from "../core/pool-choice.js";
import type { Ledger } from "../ledger/ledger.js";
import type { Logger } from "../log/logger.js";
import { errorHandler } from "./error-handler.js";
import { healthRoutes } from "./health-routes.js";
import { webhookRoute } from "./webhook-route.js";

/** What the HTTP server needs; `main.ts` builds it, tests hand in their own. */
export interface AppDeps {
  readonly ledger: Ledger;
  readonly logger: Logger;
  readonly webhookSecrets: readonly Secret[];
  readonly webhookBodyLimitBytes: number;
  readonly pools: readonly PoolLabels[];
  readonly bindingLabelPrefix: string;
  readonly now: () => Date;
  /** Told when a job event was recorded: a queued job wakes the dispatcher, an ended one the reaper. */
  readonly onJobRecorded?: (action: JobAction) => void;
}

/** Builds the HTTP app without listening: `listen()` is the caller's, `inject()` the tests'. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    bodyLimit: deps.webhookBodyLimitBytes,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: "NOT_FOUND", message: "no such route" });
  });
  // The raw bytes are kept: the signature is over them, and JSON is parsed only after it holds.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ["application/json", "application/x-www-form-urlencoded"],
    { parseAs: "buffer" },
    (_request, body, done) => done(null, body),
  );
  app.register(webhookRoute(deps));
  app.register(healthRoutes(deps.ledger));
  return app;
}
