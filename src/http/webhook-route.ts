import type { FastifyPluginAsync } from "fastify";
import { handleWebhook } from "../intake/handle-webhook.js";
import type { AppDeps } from "./build-app.js";

const HTTP_STATUS = { recorded: 202, duplicate: 200, ignored: 204, pong: 200 } as const;

/** `POST /webhook`: GitHub's deliveries. Answers in milliseconds; never calls GitHub or AWS. */
export function webhookRoute(deps: AppDeps): FastifyPluginAsync {
  return async (app) => {
    app.post("/webhook", async (request, reply) => {
      const header = (name: string) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const result = await handleWebhook(
        {
          rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          contentType: header("content-type"),
          signature: header("x-hub-signature-256"),
          event: header("x-github-event"),
          deliveryId: header("x-github-delivery"),
        },
        deps,
      );
      request.log.info(result.log, "webhook handled");
      const status = HTTP_STATUS[result.outcome];
      return status === 204
        ? reply.code(204).send()
        : reply.code(status).send({ outcome: result.outcome });
    });
  };
}
