import type { FastifyPluginAsync } from "fastify";
import type { Secret } from "../config/secret.js";
import type { Ledger } from "../ledger/ledger.js";
import { requireAdmin } from "./admin-auth.js";
import type { PerKeyLimiter } from "./per-key-limiter.js";
import { gatherStatusView } from "./status/gather-status-view.js";
import { renderStatusPage } from "./status/render-status-page.js";

// The page is one document: inline styles and SVG, no script, nothing fetched.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/** The status page at `/`, behind the admin token (Basic: browsers ask for it). */
export function statusRoute(deps: {
  readonly ledger: Ledger;
  readonly adminToken: Secret | undefined;
  readonly fleet: { readonly fleet: string; readonly pools: readonly { readonly name: string }[] };
  readonly now: () => Date;
  /** Refused attempts per address, shared with the other admin routes. */
  readonly refused?: PerKeyLimiter;
}): FastifyPluginAsync {
  return async (app) => {
    app.get(
      "/",
      { preHandler: requireAdmin(deps.adminToken, "Basic", deps.refused) },
      async (_request, reply) => {
        const view = await gatherStatusView(deps.ledger, deps.fleet, deps.now());
        return reply
          .header("Content-Security-Policy", CSP)
          .header("Cache-Control", "no-store")
          .header("X-Content-Type-Options", "nosniff")
          .header("Referrer-Policy", "no-referrer")
          .type("text/html; charset=utf-8")
          .send(renderStatusPage(view));
      },
    );
  };
}
