import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { httpStatusOf, MayflyError, TooManyAttemptsError } from "../errors.js";

/**
 * The one place errors become HTTP answers. Catalog errors keep their message; framework
 * errors keep their 4xx status with a fixed message; anything else is a 500 that reveals
 * nothing. A 401 never says which secret was tried, and no answer echoes the body.
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof MayflyError) {
    const status = httpStatusOf(error);
    request.log.warn({ err: error, code: error.code, status }, "request rejected");
    const message = status >= 500 ? "service unavailable, try again" : error.message;
    if (error instanceof TooManyAttemptsError)
      void reply.header("retry-after", String(error.retryAfterSeconds));
    return reply.code(status).send({ error: error.code, message });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    request.log.warn({ code: error.code, status }, "request rejected");
    return reply
      .code(status)
      .send({ error: frameworkCode(status), message: frameworkMessage(status) });
  }
  request.log.error({ err: error }, "request failed");
  return reply.code(500).send({ error: "INTERNAL", message: "internal error" });
}

function frameworkCode(status: number): string {
  return (
    ({ 413: "BODY_TOO_LARGE", 415: "MEDIA_TYPE_UNSUPPORTED" } as Record<number, string>)[status] ??
    "BAD_REQUEST"
  );
}

function frameworkMessage(status: number): string {
  if (status === 413) return "the body is larger than the configured limit";
  if (status === 415) return "expected Content-Type: application/json";
  return "the request is malformed";
}
