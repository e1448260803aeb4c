import type { FastifyPluginAsync } from "fastify";
import type { Ledger } from "../ledger/ledger.js";

/** `/healthz`: the process answers. `/readyz`: it can also reach its database. */
export function healthRoutes(ledger: Ledger): FastifyPluginAsync {
  return async (app) => {
    app.get("/healthz", async () => ({ status: "ok" }));
    app.get("/readyz", async (request, reply) => {
      try {
        await ledger.ping();
        return { status: "ready" };
      } catch (error) {
        request.log.warn({ err: error }, "readiness check failed");
        return reply.code(503).send({ status: "unavailable", reason: "database" });
      }
    });
  };
}
