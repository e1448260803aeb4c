import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRoutes } from "../../src/sim/github/app-routes.js";
import { jobRoutes } from "../../src/sim/github/job-routes.js";
import { manifestRoutes } from "../../src/sim/github/manifest-routes.js";
import { REQUEST_SCHEMAS } from "../../src/sim/github/request-schemas.js";
import { runnerGroupRoutes } from "../../src/sim/github/runner-group-routes.js";
import { runnerRoutes } from "../../src/sim/github/runner-routes.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { appJwt } from "./app-jwt.js";
import { hasOperation, requestSchema, validationKeywords } from "./openapi-check.js";

const ROUTES = [
  ...appRoutes,
  ...runnerRoutes,
  ...runnerGroupRoutes,
  ...jobRoutes,
  ...manifestRoutes,
];

describe("the simulated GitHub checks request bodies as GitHub's OpenAPI description says", () => {
  it("names a documented operation for every API route, and holds its body schema as documented", () => {
    const api = ROUTES.filter((r) => r.openapi !== undefined);
    // The web pages of the manifest flow are not API operations; every other route is.
    expect(ROUTES.filter((r) => r.openapi === undefined).map((r) => String(r.path))).toEqual([
      String(/^\/settings\/apps\/new$/),
      String(/^\/organizations\/([^/]+)\/settings\/apps\/new$/),
    ]);
    const expected: Record<string, unknown> = {};
    for (const route of api) {
      const path = route.openapi as string;
      expect(hasOperation(route.method, path), `${route.method} ${path}`).toBe(true);
      const schema = requestSchema(route.method, path);
      if (schema !== undefined) expected[`${route.method} ${path}`] = validationKeywords(schema);
    }
    // On a mismatch, the expected value is what src/sim/github/request-schemas.ts should hold.
    expect(REQUEST_SCHEMAS).toEqual(expected);
    expect(Object.keys(expected)).toContain("POST /orgs/{org}/actions/runners/generate-jitconfig");
  });

  let sim: SimGitHub;
  let token: string;
  let jwt: string;
  beforeAll(async () => {
    sim = await startSimGitHub();
    jwt = `Bearer ${appJwt(sim.privateKey.reveal(), sim.appId)}`;
    token = `token ${(await post("/app/installations/77/access_tokens", jwt)).body.token}`;
  });
  afterAll(() => sim.stop());

  async function post(path: string, auth: string, body?: unknown, raw?: string) {
    const response = await fetch(`${sim.url}${path}`, {
      method: "POST",
      headers: { authorization: auth, accept: "application/vnd.github+json" },
      ...(raw !== undefined
        ? { body: raw }
        : body === undefined
          ? {}
          : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      body: (await response.json()) as { message?: string; token?: string },
    };
  }

  const jit = "/orgs/example-org/actions/runners/generate-jitconfig";
  const good = { name: "r-body", runner_group_id: 1, labels: ["self-hosted", "mayfly-2cpu"] };

  it.each([
    ["labels not an array", { ...good, labels: "mayfly-2cpu" }, "$.labels: string, expected array"],
    ["no labels", { ...good, labels: [] }, "$.labels: 0 items, at least 1 expected"],
    [
      "101 labels",
      { ...good, labels: Array.from({ length: 101 }, (_, i) => `l${i}`) },
      "$.labels: 101 items, at most 100 expected",
    ],
    [
      "a label not a string",
      { ...good, labels: ["ok", 7] },
      "$.labels[1]: integer, expected string",
    ],
    [
      "the group ID as a string",
      { ...good, runner_group_id: "1" },
      "$.runner_group_id: string, expected integer",
    ],
    ["no name", { runner_group_id: 1, labels: ["x"] }, "$.name: missing"],
    ["a body that is an array", [good], "$: array, expected object"],
  ])("answers 422 for a JIT registration with %s, naming the place", async (_, body, problem) => {
    const answer = await post(jit, token, body);
    expect(answer.status).toBe(422);
    expect(answer.body.message).toContain(problem);
    expect(sim.runners().map((r) => r.name)).not.toContain("r-body");
  });

  it("answers 422 for a registration without a body, and 400 for one that is not JSON", async () => {
    const none = await post(jit, token);
    expect(none.status).toBe(422);
    expect(none.body.message).toContain("$.name: missing");
    const broken = await post(jit, token, undefined, '{"name": "r-body",');
    expect(broken.status).toBe(400);
    expect(broken.body.message).toBe("Problems parsing JSON");
  });

  it("answers 422 for a token request with an unknown permission level, and takes one with none", async () => {
    const bad = await post("/app/installations/77/access_tokens", jwt, {
      permissions: { organization_self_hosted_runners: "admin" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain(
      "$.permissions.organization_self_hosted_runners: admin not in enum",
    );
    expect((await post("/app/installations/77/access_tokens", jwt)).status).toBe(201);
  });

  it("takes a body that conforms", async () => {
    const answer = await post(jit, token, good);
    expect(answer.status).toBe(201);
    expect(sim.runners().map((r) => r.name)).toContain("r-body");
  });
});
