import { createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { sendError, sendJson } from "./http-io.js";
import type { Route, RouteContext } from "./route.js";
import { integrationBody } from "./sim-app.js";

// GitHub lets a manifest code be exchanged for an hour.
// https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest#3-you-exchange-the-temporary-code-to-retrieve-the-app-configuration
const CODE_LIFETIME_MS = 3_600_000;

interface Manifest {
  name: string;
  url: string;
  description?: string;
  hookUrl: string;
  redirectUrl: string;
  permissions: Record<string, string>;
  events: string[];
}

const isString = (v: unknown): v is string => typeof v === "string" && v !== "";

/** The manifest of a posted form, or what is wrong with it. */
function readManifest(form: URLSearchParams): Manifest | string {
  let raw: unknown;
  try {
    raw = JSON.parse(form.get("manifest") ?? "");
  } catch {
    return "manifest: not JSON";
  }
  if (typeof raw !== "object" || raw === null) return "manifest: not a JSON object";
  const m = raw as Record<string, unknown>;
  const hook = m.hook_attributes as Record<string, unknown> | undefined;
  const events = m.default_events;
  if (!isString(m.name)) return "name: required";
  if (!isString(m.url)) return "url: required";
  if (!isString(hook?.url)) return "hook_attributes.url: required";
  if (!isString(m.redirect_url) || !URL.canParse(m.redirect_url)) return "redirect_url: required";
  // Stricter than GitHub: mayfly's App is useless without this event.
  if (!Array.isArray(events) || !events.includes("workflow_job")) {
    return "default_events: must include workflow_job";
  }
  return {
    name: m.name,
    url: m.url,
    ...(isString(m.description) ? { description: m.description } : {}),
    hookUrl: hook.url,
    redirectUrl: m.redirect_url,
    permissions: { ...(m.default_permissions as Record<string, string> | undefined) },
    events: events.map(String),
  };
}

/**
 * The user's "Create GitHub App" click, simulated: the App is made at once and the browser
 * sent to the manifest's `redirect_url` with a one-time code and the caller's `state`.
 */
function createFromManifest(ctx: RouteContext, org: string | undefined): undefined {
  const manifest = readManifest(new URLSearchParams(ctx.rawBody));
  if (typeof manifest === "string") return sendError(ctx.res, 422, `Invalid manifest: ${manifest}`);
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const id = ctx.state.newAppId();
  const slug = manifest.name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  ctx.state.apps.set(id, {
    id,
    slug,
    name: manifest.name,
    clientId: `Iv1.${randomBytes(8).toString("hex")}`,
    description: manifest.description ?? null,
    externalUrl: manifest.url,
    owner:
      org === undefined
        ? { login: "sim-user", type: "User" }
        : { login: org, type: "Organization" },
    publicKey: createPublicKey(publicKey),
    permissions: manifest.permissions,
    events: manifest.events,
    createdAt: new Date(ctx.state.now()),
  });
  const code = randomBytes(20).toString("hex");
  ctx.state.manifestCodes.set(code, {
    appId: id,
    pem: privateKey,
    webhookSecret: randomBytes(20).toString("hex"),
    clientSecret: randomBytes(20).toString("hex"),
    issuedAt: ctx.state.now(),
  });
  const target = new URL(manifest.redirectUrl);
  target.searchParams.set("code", code);
  const state = ctx.query.get("state");
  if (state !== null) target.searchParams.set("state", state);
  ctx.res.writeHead(302, { location: target.toString() });
  ctx.res.end();
}

// https://docs.github.com/en/rest/apps/apps#create-a-github-app-from-a-manifest
function convert(ctx: RouteContext): undefined {
  const code = ctx.params[0] ?? "";
  const issued = ctx.state.manifestCodes.get(code);
  ctx.state.manifestCodes.delete(code);
  const app = issued === undefined ? undefined : ctx.state.apps.get(issued.appId);
  if (
    issued === undefined ||
    app === undefined ||
    ctx.state.now() - issued.issuedAt > CODE_LIFETIME_MS
  ) {
    return sendError(ctx.res, 404, "Not Found");
  }
  sendJson(ctx.res, 201, {
    ...integrationBody(ctx.baseUrl, app),
    client_secret: issued.clientSecret,
    webhook_secret: issued.webhookSecret,
    pem: issued.pem,
  });
}

/** GitHub's web pages of the manifest flow, and the API call that ends it. */
export const manifestRoutes: Route[] = [
  {
    method: "POST",
    path: /^\/settings\/apps\/new$/,
    auth: "none",
    handle: (ctx) => createFromManifest(ctx, undefined),
  },
  {
    method: "POST",
    path: /^\/organizations\/([^/]+)\/settings\/apps\/new$/,
    auth: "none",
    handle: (ctx) => createFromManifest(ctx, ctx.params[0]),
  },
  {
    method: "POST",
    path: /^\/app-manifests\/([^/]+)\/conversions$/,
    openapi: "/app-manifests/{code}/conversions",
    auth: "none",
    handle: convert,
  },
];
