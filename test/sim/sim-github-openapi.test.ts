import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { appJwt } from "./app-jwt.js";
import { componentSchema, responseSchema, schemaProblems } from "./openapi-check.js";

// Every answer of the simulated GitHub, checked against the schema GitHub documents for it.
describe("the simulated GitHub answers as GitHub's OpenAPI description says", () => {
  let sim: SimGitHub;
  let jwt: string;
  let token: string;

  async function call(method: string, path: string, auth: string, body?: unknown) {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: auth, accept: "application/vnd.github+json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely
    const answer = (await response.json()) as any;
    return { status: response.status, headers: response.headers, body: answer };
  }

  function expectConforms(
    method: string,
    route: string,
    answer: { status: number; body: unknown },
  ) {
    expect(schemaProblems(responseSchema(method, route, answer.status), answer.body)).toEqual([]);
  }

  beforeAll(async () => {
    sim = await startSimGitHub();
    jwt = `Bearer ${appJwt(sim.privateKey.reveal(), sim.appId)}`;
    const minted = await call("POST", "/app/installations/77/access_tokens", jwt);
    token = `token ${minted.body.token}`;
  });
  afterAll(() => sim.stop());

  it("mints installation tokens", async () => {
    const answer = await call("POST", "/app/installations/77/access_tokens", jwt);
    expect(answer.status).toBe(201);
    expect(answer.body.token).toMatch(/^ghs_/);
    expectConforms("POST", "/app/installations/{installation_id}/access_tokens", answer);
  });

  it("describes the org's installation", async () => {
    const answer = await call("GET", "/orgs/example-org/installation", jwt);
    expect(answer.status).toBe(200);
    expectConforms("GET", "/orgs/{org}/installation", answer);
  });

  it("registers JIT runners at org and repo level, and lists them", async () => {
    const body = { name: "r-openapi", runner_group_id: 1, labels: ["self-hosted", "mayfly-4cpu"] };
    const org = await call(
      "POST",
      "/orgs/example-org/actions/runners/generate-jitconfig",
      token,
      body,
    );
    expect(org.status).toBe(201);
    expectConforms("POST", "/orgs/{org}/actions/runners/generate-jitconfig", org);
    const repo = await call(
      "POST",
      "/repos/example-org/app/actions/runners/generate-jitconfig",
      token,
      body,
    );
    expect(repo.status).toBe(201);
    expectConforms("POST", "/repos/{owner}/{repo}/actions/runners/generate-jitconfig", repo);
    const list = await call("GET", "/orgs/example-org/actions/runners", token);
    expect(list.body.total_count).toBe(1);
    expectConforms("GET", "/orgs/{org}/actions/runners", list);
  });

  it("reports jobs", async () => {
    sim.addJob({
      id: 9001,
      repository: "example-org/app",
      status: "in_progress",
      runnerId: 3,
      runnerName: "r-3",
    });
    const answer = await call("GET", "/repos/example-org/app/actions/jobs/9001", token);
    expect(answer.status).toBe(200);
    expectConforms("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}", answer);
    sim.addJob({ id: 9002, repository: "example-org/app" });
    const queued = await call("GET", "/repos/example-org/app/actions/jobs/9002", token);
    expectConforms("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}", queued);
  });

  it("lists deliveries and shows one with its payload", async () => {
    const recorded = sim.recordDelivery("workflow_job", {
      action: "queued",
      workflow_job: { id: 1 },
    });
    const list = await call("GET", "/app/hook/deliveries", jwt);
    expect(list.status).toBe(200);
    expectConforms("GET", "/app/hook/deliveries", list);
    const one = await call("GET", `/app/hook/deliveries/${recorded.id}`, jwt);
    expect(one.body.request.payload).toEqual({ action: "queued", workflow_job: { id: 1 } });
    expectConforms("GET", "/app/hook/deliveries/{delivery_id}", one);
  });

  it("answers errors in GitHub's shape", async () => {
    const missing = await call("GET", "/repos/example-org/app/actions/jobs/1", token);
    expect(missing.status).toBe(404);
    // The job endpoint documents no 404 body; GitHub answers with its basic error.
    expect(schemaProblems(componentSchema("basic-error"), missing.body)).toEqual([]);
    const body = { name: "dup", runner_group_id: 1, labels: ["x"] };
    await call("POST", "/orgs/example-org/actions/runners/generate-jitconfig", token, body);
    const conflict = await call(
      "POST",
      "/orgs/example-org/actions/runners/generate-jitconfig",
      token,
      body,
    );
    expect(conflict.status).toBe(409);
    expectConforms("POST", "/orgs/{org}/actions/runners/generate-jitconfig", conflict);
  });

  it("the checker itself catches a missing property and a wrong type", () => {
    const schema = responseSchema("POST", "/orgs/{org}/actions/runners/generate-jitconfig", 201);
    expect(schemaProblems(schema, { runner: { id: "1" } })).toEqual(
      expect.arrayContaining([
        "$.encoded_jit_config: missing",
        "$.runner.id: string, expected integer",
      ]),
    );
  });
});
