import type { ServerResponse } from "node:http";
import { sendError } from "./http-io.js";
import type { SimGitHubState } from "./sim-state.js";

/** What a route handler gets: the parsed request, the caller and the shared state. */
export interface RouteContext {
  state: SimGitHubState;
  /** Captures of the route's path pattern, decoded. */
  params: string[];
  query: URLSearchParams;
  body: unknown;
  /** The body as sent, e.g. a form of the web routes. */
  rawBody: string;
  /** The App whose JWT authenticated the request (App routes only). */
  appId: number | undefined;
  /** The installation whose token authenticated the request (installation routes only). */
  installationId: number | undefined;
  /** The server's own URL, for `url` fields and `Link` headers. */
  baseUrl: string;
  res: ServerResponse;
  /** Headers every answer carries (rate limit counters). */
  headers: Record<string, string>;
}

/**
 * One endpoint: method, path pattern, which credential it takes ("none": web pages and the
 * unauthenticated manifest conversion), and its handler.
 */
export interface Route {
  method: string;
  path: RegExp;
  /**
   * The operation's path in GitHub's OpenAPI description (API routes only): the sim checks a
   * request body against the schema GitHub documents for it (request-schemas.ts).
   */
  openapi?: string;
  auth: "app" | "installation" | "none";
  handle(ctx: RouteContext): void;
}

/**
 * GitHub answers 403 when an installation token reaches an org it is not installed on.
 * https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
 */
export function ownsOrg(ctx: RouteContext, org: string): boolean {
  const installation = ctx.state.installationOf(org);
  if (installation !== undefined && installation.id === ctx.installationId) return true;
  sendError(ctx.res, 403, "Resource not accessible by integration", ctx.headers);
  return false;
}

/** Reads `per_page` (1..100, default 30) and `page` (default 1) as GitHub does. */
export function pageOf(query: URLSearchParams): { perPage: number; page: number } {
  const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
  const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
  return { perPage, page };
}
