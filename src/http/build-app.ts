import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { Secret } from "../config/secret.js";
import type { JobEvent } from "../core/job.js";
import type { PoolLabels } from "../core/pool-choice.js";
import type { RepositoryLimits } from "../core/repository-share.js";
import type { Ledger } from "../ledger/ledger.js";
import type { Logger } from "../log/logger.js";
import { refusedAttempts } from "./admin-auth.js";
import { apiRoutes } from "./api-routes.js";
import { type AssignmentRouteDeps, assignmentRoute } from "./assignment-route.js";
import { errorHandler } from "./error-handler.js";
import { healthRoutes } from "./health-routes.js";
import { metricsRoute } from "./metrics-route.js";
import type { TlsIdentity } from "./self-signed-certificate.js";
import { statusRoute } from "./status-route.js";
import { webhookRoute } from "./webhook-route.js";

/** What the HTTP server needs; `main.ts` builds it, tests hand in their own. */
export interface AppDeps {
  /** Serve HTTPS with this key and certificate; absent: HTTP. */
  readonly tls?: TlsIdentity;
  readonly ledger: Ledger;
  readonly logger: Logger;
  readonly webhookSecrets: readonly Secret[];
  readonly webhookBodyLimitBytes: number;
  readonly pools: readonly PoolLabels[];
  readonly bindingLabelPrefix: string;
  /** The installations and organisations whose jobs are ours; absent: all. */
  readonly installations?: readonly (number | string)[] | undefined;
  readonly now: () => Date;
  /** Told when a job event was recorded (with the job's pool, null if none of ours). */
  readonly onJobRecorded?: (event: JobEvent, pool: string | null) => void;
  /** The runner VMs' assignment endpoint; absent: not served. */
  readonly assignment?: AssignmentRouteDeps;
  /** The admin API, status page and metrics; absent: not served. */
  readonly admin?: {
    readonly token: Secret | undefined;
    readonly fleet: {
      readonly fleet: string;
      readonly pools: readonly { readonly name: string }[];
    };
    readonly registry: Registry;
    /** The pools' per-repository caps, for `/api/jobs`; absent: not reported. */
    readonly repositoryLimits?: RepositoryLimits;
  };
}

/** Builds the HTTP app without listening: `listen()` is the caller's, `inject()` the tests'. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // The HTTPS server answers the same routes; only its type differs, which no caller uses.
  const app = Fastify({
    ...(deps.tls === undefined ? {} : { https: { key: deps.tls.key, cert: deps.tls.cert } }),
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
  if (deps.assignment !== undefined) app.register(assignmentRoute(deps.assignment));
  if (deps.admin !== undefined) {
    const { token, fleet, registry, repositoryLimits } = deps.admin;
    const refused = refusedAttempts();
    app.register(
      apiRoutes({
        ledger: deps.ledger,
        adminToken: token,
        now: deps.now,
        refused,
        repositoryLimits,
      }),
    );
    app.register(
      statusRoute({ ledger: deps.ledger, adminToken: token, fleet, now: deps.now, refused }),
    );
    app.register(metricsRoute(registry, token, refused));
  }
  return app;
}
