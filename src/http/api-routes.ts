import type { FastifyPluginAsync } from "fastify";
import type { Secret } from "../config/secret.js";
import type { RepositoryLimits } from "../core/repository-share.js";
import { QueryError } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import { jobFilterFrom, paramsOf, usageQueryFrom } from "../reports/report-request.js";
import { jobsReportOf } from "../reports/report-source.js";
import { usageCsv, usageDocument } from "../reports/usage-table.js";
import { requireAdmin } from "./admin-auth.js";
import type { PerKeyLimiter } from "./per-key-limiter.js";

/**
 * The admin API, behind the admin token:
 * - `GET /api/usage?since=&until=&by=repo,day[&format=csv]`: usage and cost, grouped;
 * - `GET /api/jobs?state=live&org=&repo=&pool=&since=&limit=`: jobs with their VM, and each
 *   pool's per-repository cap with its repositories' runners (`repositoryLimits`).
 */
export function apiRoutes(deps: {
  readonly ledger: Ledger;
  readonly adminToken: Secret | undefined;
  readonly now: () => Date;
  /** Refused attempts per address, shared with the other admin routes. */
  readonly refused?: PerKeyLimiter;
  /** The pools' per-repository caps; absent: `/api/jobs` reports none. */
  readonly repositoryLimits?: RepositoryLimits | undefined;
}): FastifyPluginAsync {
  return async (app) => {
    // Reports name repositories and costs: no browser or proxy keeps a copy, refusals included.
    app.addHook("onRequest", async (_request, reply) => {
      void reply.header("cache-control", "no-store");
    });
    app.addHook("preHandler", requireAdmin(deps.adminToken, "Bearer", deps.refused));
    app.get("/api/usage", async (request, reply) => {
      const params = paramsOf(request.query);
      if (params.format !== undefined && params.format !== "json" && params.format !== "csv")
        throw new QueryError(`format: expected "json" or "csv", got "${params.format}"`);
      const query = usageQueryFrom(params, deps.now());
      const rows = await deps.ledger.usageReport(query);
      if (params.format === "csv")
        return reply.type("text/csv; charset=utf-8").send(usageCsv(rows, query.by));
      return usageDocument(query, rows);
    });
    app.get("/api/jobs", async (request) => {
      const now = deps.now();
      const filter = jobFilterFrom(paramsOf(request.query), now);
      return jobsReportOf(deps.ledger, filter, now, deps.repositoryLimits);
    });
  };
}
