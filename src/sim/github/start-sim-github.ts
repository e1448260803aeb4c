import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Secret } from "../../config/secret.js";
import { appJwtProblem, jwtIssuer } from "./app-jwt.js";
import { appRoutes } from "./app-routes.js";
import { parseJson, readText, sendError } from "./http-io.js";
import { jobRoutes } from "./job-routes.js";
import { manifestRoutes } from "./manifest-routes.js";
import { GITHUB_RATE_LIMITS, type RateLimitOptions, RateLimits } from "./rate-limits.js";
import { REQUEST_SCHEMAS } from "./request-schemas.js";
import type { Route } from "./route.js";
import { runnerGroupRoutes } from "./runner-group-routes.js";
import { runnerRoutes } from "./runner-routes.js";
import { schemaProblems } from "./schema-problems.js";
import type { SimApp } from "./sim-app.js";
import {
  type SimDelivery,
  SimGitHubState,
  type SimInstallation,
  type SimJob,
  type SimRunner,
  type SimRunnerGroup,
} from "./sim-state.js";

export interface SimGitHubOptions {
  appId?: number;
  /** Orgs the App is installed on; default: installation 77 on "example-org". */
  installations?: SimInstallation[];
  rateLimits?: Partial<RateLimitOptions>;
  /** Decides per request whether to fail it with this 5xx status instead of answering. */
  fault?: (request: { method: string; path: string }) => number | undefined;
  now?: () => number;
}

/** A running simulated GitHub and what tests may read or arrange in it. */
export interface SimGitHub {
  url: string;
  appId: number;
  /** The App's private key (PKCS#1 PEM, as GitHub hands it out). */
  privateKey: Secret;
  stop(): Promise<void>;
  runners(): SimRunner[];
  /** Every JIT config it answered, for tests that look for them where they must never be. */
  issuedJitConfigs(): readonly string[];
  setRunner(id: number, patch: Partial<Pick<SimRunner, "status" | "busy">>): void;
  /** A runner group of an installed org (1: its Default group). */
  runnerGroup(org: string, id: number): SimRunnerGroup | undefined;
  /** The org's runner groups, the Default one first. */
  runnerGroups(org: string): SimRunnerGroup[];
  /** Drops a registration, as GitHub does when an ephemeral runner finishes; false if absent. */
  removeRunner(id: number): boolean;
  addJob(job: Pick<SimJob, "id" | "repository"> & Partial<SimJob>): SimJob;
  /** Logs a delivery as sent; unless `statusCode` says otherwise, no answer came (0). */
  recordDelivery(
    event: string,
    payload: unknown,
    options?: {
      deliveredAt?: Date;
      redelivery?: boolean;
      installationId?: number;
      statusCode?: number;
    },
  ): SimDelivery;
  /** Notes the receiver's HTTP answer to a logged delivery, as the log then shows it. */
  deliveryAnswered(id: number, statusCode: number): void;
  /** Requests received (every answer counts), optionally only those whose path matches. */
  requestCount(path?: string | RegExp): number;
  /** When each request for `path` arrived (milliseconds since the epoch), in order. */
  requestTimes(method: string, path: string | RegExp): number[];
  /** Installation tokens minted so far. */
  tokenRequests(): number;
}

const ROUTES: readonly Route[] = [
  ...appRoutes,
  ...runnerRoutes,
  ...runnerGroupRoutes,
  ...jobRoutes,
  ...manifestRoutes,
];

function credential(req: IncomingMessage): string | undefined {
  const match = /^(?:bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  return match?.[1];
}

/** Starts a simulated GitHub REST API on 127.0.0.1 (a free port), speaking the real wire protocol. */
export async function startSimGitHub(options: SimGitHubOptions = {}): Promise<SimGitHub> {
  const appId = options.appId ?? 424242;
  const now = options.now ?? Date.now;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const verifyKey: KeyObject = createPublicKey(publicKey);
  const state = new SimGitHubState(
    appId,
    options.installations ?? [{ id: 77, org: "example-org" }],
    now,
  );
  const firstOrg = state.installations[0]?.org ?? "example-org";
  state.apps.set(appId, {
    id: appId,
    slug: "mayfly",
    name: "mayfly",
    clientId: `Iv1.${appId}`,
    description: null,
    externalUrl: "https://mayfly.example",
    owner: { login: firstOrg, type: "Organization" },
    publicKey: verifyKey,
    permissions: { organization_self_hosted_runners: "write", actions: "read", metadata: "read" },
    events: ["workflow_job"],
    createdAt: new Date(now()),
  });
  const limits = new RateLimits({ ...GITHUB_RATE_LIMITS, ...options.rateLimits }, now);
  let secondaryAnswers = 0;
  let baseUrl = "";

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", baseUrl);
    const method = req.method ?? "GET";
    state.requests.push({ method, path: url.pathname, atMs: Date.now() });
    const rawBody = await readText(req);
    const body = parseJson(rawBody);
    const faultStatus = options.fault?.({ method, path: url.pathname });
    if (faultStatus !== undefined) return sendError(res, faultStatus, "Server Error");
    let params: string[] = [];
    const route = ROUTES.find((r) => {
      const match = r.method === method ? r.path.exec(url.pathname) : null;
      if (match !== null) params = match.slice(1).map((p) => decodeURIComponent(p ?? ""));
      return match !== null;
    });
    if (route === undefined) return sendError(res, 404, "Not Found");
    const context = { state, params, query: url.searchParams, body, rawBody, baseUrl, res };
    // Web pages and the manifest conversion take no credential and no API budget here.
    if (route.auth === "none") {
      return route.handle({ ...context, installationId: undefined, appId: undefined, headers: {} });
    }
    const presented = credential(req);
    let installationId: number | undefined;
    let callerApp: number | undefined;
    if (route.auth === "app") {
      // The JWT's issuer says which App's key to check it with; unknown issuers meet ours.
      const app =
        state.apps.get(jwtIssuer(presented ?? "") ?? appId) ?? (state.apps.get(appId) as SimApp);
      const problem =
        presented === undefined
          ? "Bad credentials"
          : appJwtProblem(presented, app.publicKey, app.id, Math.floor(now() / 1000));
      if (problem !== undefined) return sendError(res, 401, problem);
      callerApp = app.id;
    } else {
      const token = presented === undefined ? undefined : state.tokens.get(presented);
      if (token === undefined || token.expiresAt <= now())
        return sendError(res, 401, "Bad credentials");
      installationId = token.installationId;
    }
    const caller =
      installationId !== undefined
        ? `installation:${installationId}`
        : callerApp === appId
          ? "app"
          : `app:${callerApp}`;
    const verdict = limits.take(caller, method);
    if (verdict.kind === "primary") {
      const who = installationId === undefined ? "the app" : `installation ID ${installationId}`;
      return sendError(res, 403, `API rate limit exceeded for ${who}.`, verdict.headers);
    }
    if (verdict.kind === "secondary") {
      // GitHub answers a secondary limit with 403 or 429: the sim alternates, so clients
      // must handle both.
      // https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
      secondaryAnswers += 1;
      return sendError(
        res,
        secondaryAnswers % 2 === 0 ? 429 : 403,
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        verdict.headers,
      );
    }
    const problems = bodyProblems(route, method, rawBody, body);
    if (problems !== undefined) {
      const [status, message] = problems;
      return sendError(res, status, message, verdict.headers);
    }
    route.handle({ ...context, installationId, appId: callerApp, headers: verdict.headers });
  }

  const server = createServer((req, res) => {
    serve(req, res).catch(() => sendError(res, 500, "Server Error"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    appId,
    privateKey: new Secret(privateKey),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
    runners: () => [...state.runners.values()],
    issuedJitConfigs: () => [...state.issuedJitConfigs],
    setRunner(id, patch) {
      const runner = state.runners.get(id);
      if (runner === undefined) throw new Error(`no runner ${id}`);
      Object.assign(runner, patch);
    },
    removeRunner: (id) => state.runners.delete(id),
    runnerGroup: (org, id) => state.runnerGroup(org, id),
    runnerGroups: (org) => state.runnerGroupsOf(org),
    addJob(job) {
      const full: SimJob = {
        runId: job.id * 10,
        name: "build",
        workflowName: "CI",
        headBranch: "main",
        headSha: "0123456789abcdef0123456789abcdef01234567",
        labels: ["self-hosted"],
        status: "queued",
        conclusion: null,
        runnerId: null,
        runnerName: null,
        createdAt: new Date(now()),
        startedAt: null,
        completedAt: null,
        ...job,
      };
      state.jobs.set(full.id, full);
      return full;
    },
    recordDelivery: (event, payload, deliveryOptions) =>
      state.recordDelivery(event, payload, deliveryOptions),
    deliveryAnswered: (id, statusCode) => state.deliveryAnswered(id, statusCode),
    requestCount(path) {
      if (path === undefined) return state.requests.length;
      return state.requests.filter((r) =>
        typeof path === "string" ? r.path === path : path.test(r.path),
      ).length;
    },
    requestTimes: (method, path) =>
      state.requests
        .filter(
          (r) =>
            r.method === method && (typeof path === "string" ? r.path === path : path.test(r.path)),
        )
        .map((r) => r.atMs),
    tokenRequests: () => state.tokenRequests,
  };
}

/**
 * GitHub's answer to a body it cannot take: 400 when it is not JSON, 422 naming each place
 * where it breaks the schema GitHub documents for the operation. Undefined when it is fine.
 * https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
 */
function bodyProblems(
  route: Route,
  method: string,
  rawBody: string,
  body: unknown,
): [number, string] | undefined {
  const schema = REQUEST_SCHEMAS[`${method} ${route.openapi}`];
  if (schema === undefined) return undefined;
  const empty = rawBody.trim() === "";
  if (!empty && body === undefined) return [400, "Problems parsing JSON"];
  // No body is an empty object: fine where nothing is required.
  const problems = schemaProblems(schema, empty ? {} : body);
  return problems.length === 0 ? undefined : [422, `Invalid request.\n\n${problems.join("\n")}`];
}
