import { randomBytes } from "node:crypto";
import { sendError, sendJson } from "./http-io.js";
import { ownsOrg, pageOf, type Route, type RouteContext } from "./route.js";
import type { SimRunner } from "./sim-state.js";

function runnerBody(runner: SimRunner): Record<string, unknown> {
  return {
    id: runner.id,
    name: runner.name,
    os: runner.os,
    status: runner.status,
    busy: runner.busy,
    runner_group_id: runner.runnerGroupId,
    labels: runner.labels.map((name, i) => ({ id: runner.id * 1000 + i, name, type: "custom" })),
  };
}

// https://docs.github.com/en/rest/actions/self-hosted-runners#create-configuration-for-a-just-in-time-runner-for-an-organization
function generateJitConfig(ctx: RouteContext, org: string, repository?: string): undefined {
  if (!ownsOrg(ctx, org)) return;
  // The body was checked against GitHub's schema for this operation (request-schemas.ts).
  const body = ctx.body as { name: string; runner_group_id: number; labels: string[] };
  if (repository === undefined && ctx.state.runnerGroup(org, body.runner_group_id) === undefined) {
    return sendError(ctx.res, 404, "Not Found", ctx.headers);
  }
  const taken = [...ctx.state.runners.values()].some(
    (r) => r.org === org && r.repository === repository && r.name === body.name,
  );
  if (taken) {
    return sendError(
      ctx.res,
      409,
      `Already exists - A runner with the name ${body.name} already exists.`,
      ctx.headers,
    );
  }
  const runner = ctx.state.addRunner({
    name: body.name,
    os: "unknown",
    status: "offline",
    busy: false,
    labels: [...body.labels],
    org,
    runnerGroupId: body.runner_group_id,
    ...(repository === undefined ? {} : { repository }),
  });
  // The real config is base64 JSON holding the runner's credentials; ours holds a fake one.
  const encoded = Buffer.from(
    JSON.stringify({ ".runner": runner.id, ".credentials": randomBytes(24).toString("hex") }),
  ).toString("base64");
  ctx.state.issuedJitConfigs.push(encoded);
  sendJson(ctx.res, 201, { runner: runnerBody(runner), encoded_jit_config: encoded }, ctx.headers);
}

// https://docs.github.com/en/rest/actions/self-hosted-runners#list-self-hosted-runners-for-an-organization
// Each level lists its own registrations; `name` keeps only the one of that name.
function listRunners(ctx: RouteContext, repository?: string): undefined {
  const org = ctx.params[0] ?? "";
  if (!ownsOrg(ctx, org)) return;
  const { perPage, page } = pageOf(ctx.query);
  const name = ctx.query.get("name");
  const all = [...ctx.state.runners.values()].filter(
    (r) => r.org === org && r.repository === repository && (name === null || r.name === name),
  );
  const slice = all.slice((page - 1) * perPage, page * perPage);
  sendJson(ctx.res, 200, { total_count: all.length, runners: slice.map(runnerBody) }, ctx.headers);
}

// https://docs.github.com/en/rest/actions/self-hosted-runners#delete-a-self-hosted-runner-from-an-organization
// https://docs.github.com/en/rest/actions/self-hosted-runners#delete-a-self-hosted-runner-from-a-repository
// A runner is found only on the route of the level it was registered at.
function deleteRunner(ctx: RouteContext, repository?: string): undefined {
  const org = ctx.params[0] ?? "";
  if (!ownsOrg(ctx, org)) return;
  const runner = ctx.state.runners.get(Number(ctx.params[repository === undefined ? 1 : 2]));
  if (runner === undefined || runner.org !== org || runner.repository !== repository) {
    return sendError(ctx.res, 404, "Not Found", ctx.headers);
  }
  if (runner.busy) {
    return sendError(
      ctx.res,
      422,
      `Bad request - Runner "${runner.name}" is still running a job"`,
      ctx.headers,
    );
  }
  ctx.state.runners.delete(runner.id);
  sendJson(ctx.res, 204, undefined, ctx.headers);
}

/** Self-hosted runner endpoints, authenticated with an installation token. */
export const runnerRoutes: Route[] = [
  {
    method: "POST",
    path: /^\/orgs\/([^/]+)\/actions\/runners\/generate-jitconfig$/,
    openapi: "/orgs/{org}/actions/runners/generate-jitconfig",
    auth: "installation",
    handle: (ctx) => generateJitConfig(ctx, ctx.params[0] ?? ""),
  },
  {
    method: "POST",
    path: /^\/repos\/([^/]+)\/([^/]+)\/actions\/runners\/generate-jitconfig$/,
    openapi: "/repos/{owner}/{repo}/actions/runners/generate-jitconfig",
    auth: "installation",
    handle: (ctx) =>
      generateJitConfig(ctx, ctx.params[0] ?? "", `${ctx.params[0]}/${ctx.params[1]}`),
  },
  {
    method: "GET",
    path: /^\/orgs\/([^/]+)\/actions\/runners$/,
    openapi: "/orgs/{org}/actions/runners",
    auth: "installation",
    handle: (ctx) => listRunners(ctx),
  },
  {
    method: "GET",
    path: /^\/repos\/([^/]+)\/([^/]+)\/actions\/runners$/,
    openapi: "/repos/{owner}/{repo}/actions/runners",
    auth: "installation",
    handle: (ctx) => listRunners(ctx, `${ctx.params[0]}/${ctx.params[1]}`),
  },
  {
    method: "DELETE",
    path: /^\/orgs\/([^/]+)\/actions\/runners\/(\d+)$/,
    openapi: "/orgs/{org}/actions/runners/{runner_id}",
    auth: "installation",
    handle: (ctx) => deleteRunner(ctx),
  },
  {
    method: "DELETE",
    path: /^\/repos\/([^/]+)\/([^/]+)\/actions\/runners\/(\d+)$/,
    openapi: "/repos/{owner}/{repo}/actions/runners/{runner_id}",
    auth: "installation",
    handle: (ctx) => deleteRunner(ctx, `${ctx.params[0]}/${ctx.params[1]}`),
  },
];
