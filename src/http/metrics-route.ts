import type { FastifyPluginAsync } from "fastify";
import type { Registry } from "prom-client";
import type { Secret } from "../config/secret.js";
import { requireAdmin } from "./admin-auth.js";
import type { PerKeyLimiter } from "./per-key-limiter.js";

/** `/metrics` in Prometheus' text format, behind the admin token (Prometheus sends it as a bearer token). */
export function metricsRoute(
  registry: Registry,
  adminToken: Secret | undefined,
  refused?: PerKeyLimiter,
): FastifyPluginAsync {
  return async (app) => {
    app.get(
      "/metrics",
      { preHandler: requireAdmin(adminToken, "Bearer", refused) },
      async (_request, reply) => {
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      },
    );
  };
}
