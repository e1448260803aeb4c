import { sendError, sendJson } from "./http-io.js";
import type { Route, RouteContext } from "./route.js";
import { integrationBody } from "./sim-app.js";
import type { SimDelivery } from "./sim-state.js";

const iso = (ms: number | Date): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function installationBody(ctx: RouteContext, id: number, org: string): Record<string, unknown> {
  const now = iso(ctx.state.now());
  return {
    id,
    account: {
      login: org,
      id: 1000 + id,
      node_id: `O_${id}`,
      avatar_url: `${ctx.baseUrl}/avatars/${org}`,
      gravatar_id: "",
      url: `${ctx.baseUrl}/users/${org}`,
      html_url: `${ctx.baseUrl}/${org}`,
      followers_url: `${ctx.baseUrl}/users/${org}/followers`,
      following_url: `${ctx.baseUrl}/users/${org}/following{/other_user}`,
      gists_url: `${ctx.baseUrl}/users/${org}/gists{/gist_id}`,
      starred_url: `${ctx.baseUrl}/users/${org}/starred{/owner}{/repo}`,
      subscriptions_url: `${ctx.baseUrl}/users/${org}/subscriptions`,
      organizations_url: `${ctx.baseUrl}/users/${org}/orgs`,
      repos_url: `${ctx.baseUrl}/users/${org}/repos`,
      events_url: `${ctx.baseUrl}/users/${org}/events{/privacy}`,
      received_events_url: `${ctx.baseUrl}/users/${org}/received_events`,
      type: "Organization",
      site_admin: false,
    },
    repository_selection: "all",
    access_tokens_url: `${ctx.baseUrl}/app/installations/${id}/access_tokens`,
    repositories_url: `${ctx.baseUrl}/installation/repositories`,
    html_url: `${ctx.baseUrl}/organizations/${org}/settings/installations/${id}`,
    app_id: ctx.state.appId,
    app_slug: "mayfly",
    target_id: 1000 + id,
    target_type: "Organization",
    permissions: { organization_self_hosted_runners: "write", actions: "read", metadata: "read" },
    events: ["workflow_job"],
    created_at: now,
    updated_at: now,
    single_file_name: null,
    suspended_by: null,
    suspended_at: null,
  };
}

function deliveryItem(d: SimDelivery): Record<string, unknown> {
  return {
    id: d.id,
    guid: d.guid,
    delivered_at: iso(d.deliveredAt),
    redelivery: d.redelivery,
    duration: 0.05,
    status: statusText(d.statusCode),
    status_code: d.statusCode,
    event: d.event,
    action: d.action,
    installation_id: d.installationId,
    repository_id: null,
  };
}

// What GitHub's delivery log says of an answer ("OK" for any 2xx, as its UI shows it).
function statusText(code: number): string {
  if (code === 0) return "failed to connect to host";
  return code >= 200 && code < 300 ? "OK" : `Invalid HTTP Response: ${code}`;
}

// The installations and the delivery log belong to the configured App; Apps created from a
// manifest are installed nowhere and have received nothing.
const configuredApp = (ctx: RouteContext): boolean => ctx.appId === ctx.state.appId;

// Cursor pagination, newest first; the next page is announced in the Link header.
// https://docs.github.com/en/rest/apps/webhooks#list-deliveries-for-an-app-webhook
function listDeliveries(ctx: RouteContext): undefined {
  const perPage = Math.min(100, Math.max(1, Number(ctx.query.get("per_page") ?? 30) || 30));
  const cursor = /^v1_(\d+)$/.exec(ctx.query.get("cursor") ?? "")?.[1];
  const before = cursor === undefined ? Number.POSITIVE_INFINITY : Number(cursor);
  const log = configuredApp(ctx) ? ctx.state.deliveries : [];
  const newestFirst = [...log].reverse().filter((d) => d.id < before);
  const page = newestFirst.slice(0, perPage);
  const last = page.at(-1);
  const headers = { ...ctx.headers };
  if (last !== undefined && newestFirst.length > perPage) {
    const next = `${ctx.baseUrl}/app/hook/deliveries?per_page=${perPage}&cursor=v1_${last.id}`;
    headers.link = `<${next}>; rel="next"`;
  }
  sendJson(ctx.res, 200, page.map(deliveryItem), headers);
}

function getDelivery(ctx: RouteContext): undefined {
  const delivery = ctx.state.deliveries.find((d) => d.id === Number(ctx.params[0]));
  if (delivery === undefined || !configuredApp(ctx))
    return sendError(ctx.res, 404, "Not Found", ctx.headers);
  sendJson(
    ctx.res,
    200,
    {
      ...deliveryItem(delivery),
      url: "https://mayfly.example/webhook",
      request: {
        headers: { "X-GitHub-Event": delivery.event, "X-GitHub-Delivery": delivery.guid },
        payload: delivery.payload,
      },
      response: { headers: {}, payload: "" },
    },
    ctx.headers,
  );
}

/** Endpoints authenticated with the App's JWT. */
export const appRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/app$/,
    openapi: "/app",
    auth: "app",
    handle(ctx) {
      const app = ctx.state.apps.get(ctx.appId ?? 0);
      if (app === undefined) return sendError(ctx.res, 404, "Not Found", ctx.headers);
      sendJson(ctx.res, 200, integrationBody(ctx.baseUrl, app), ctx.headers);
    },
  },
  {
    method: "POST",
    path: /^\/app\/installations\/(\d+)\/access_tokens$/,
    openapi: "/app/installations/{installation_id}/access_tokens",
    auth: "app",
    handle(ctx) {
      const id = Number(ctx.params[0]);
      if (!configuredApp(ctx) || !ctx.state.installations.some((i) => i.id === id)) {
        return sendError(ctx.res, 404, "Not Found", ctx.headers);
      }
      const { token, expiresAt } = ctx.state.mintToken(id);
      sendJson(
        ctx.res,
        201,
        {
          token,
          expires_at: iso(expiresAt),
          permissions: {
            organization_self_hosted_runners: "write",
            actions: "read",
            metadata: "read",
          },
          repository_selection: "all",
        },
        ctx.headers,
      );
    },
  },
  {
    method: "GET",
    path: /^\/orgs\/([^/]+)\/installation$/,
    openapi: "/orgs/{org}/installation",
    auth: "app",
    handle(ctx) {
      const installation = ctx.state.installationOf(ctx.params[0] ?? "");
      if (installation === undefined || !configuredApp(ctx)) {
        return sendError(ctx.res, 404, "Not Found", ctx.headers);
      }
      sendJson(ctx.res, 200, installationBody(ctx, installation.id, installation.org), ctx.headers);
    },
  },
  {
    method: "GET",
    path: /^\/app\/hook\/deliveries$/,
    openapi: "/app/hook/deliveries",
    auth: "app",
    handle: listDeliveries,
  },
  {
    method: "GET",
    path: /^\/app\/hook\/deliveries\/(\d+)$/,
    openapi: "/app/hook/deliveries/{delivery_id}",
    auth: "app",
    handle: getDelivery,
  },
];
