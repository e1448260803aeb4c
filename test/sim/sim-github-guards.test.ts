import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  type SimGitHub,
  type SimGitHubOptions,
  startSimGitHub,
} from "../../src/sim/github/start-sim-github.js";
import { appJwt } from "./app-jwt.js";

describe("the simulated GitHub guards its API like GitHub", () => {
  let sim: SimGitHub;
  afterEach(() => sim?.stop());

  async function start(options: SimGitHubOptions = {}) {
    sim = await startSimGitHub(options);
    return sim;
  }
  async function call(path: string, auth?: string, method = "GET", body?: unknown) {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: auth === undefined ? {} : { authorization: auth },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      headers: response.headers,
      // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely
      body: (await response.json().catch(() => undefined)) as any,
    };
  }
  async function installationToken(): Promise<string> {
    const jwt = appJwt(sim.privateKey.reveal(), sim.appId);
    const { body } = await call("/app/installations/77/access_tokens", `Bearer ${jwt}`, "POST");
    return `token ${body.token}`;
  }

  it("hands out a PKCS#1 private key, as GitHub does", async () => {
    await start();
    expect(sim.privateKey.reveal()).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(String(sim.privateKey)).toBe("[redacted]");
  });

  it("answers 401 in GitHub's error shape to a missing or bad App JWT", async () => {
    await start();
    const key = sim.privateKey.reveal();
    const now = Math.floor(Date.now() / 1000);
    const { privateKey: otherKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const bad = [
      undefined,
      "Bearer not-a-jwt",
      `Bearer ${appJwt(otherKey, sim.appId)}`,
      `Bearer ${appJwt(key, sim.appId + 1)}`,
      `Bearer ${appJwt(key, sim.appId, { iat: now - 700, exp: now - 60 })}`,
      `Bearer ${appJwt(key, sim.appId, { iat: now, exp: now + 3600 })}`,
    ];
    for (const auth of bad) {
      const answer = await call("/app/hook/deliveries", auth);
      expect(answer.status, String(auth)).toBe(401);
      expect(answer.body).toEqual({
        message: expect.any(String),
        documentation_url: expect.stringMatching(/^https:\/\/docs\.github\.com\//),
        status: "401",
      });
    }
    expect((await call("/app/hook/deliveries", `Bearer ${appJwt(key, sim.appId)}`)).status).toBe(
      200,
    );
  });

  it("takes installation tokens, not JWTs, on installation endpoints", async () => {
    await start();
    const jwt = `Bearer ${appJwt(sim.privateKey.reveal(), sim.appId)}`;
    expect((await call("/orgs/example-org/actions/runners", jwt)).status).toBe(401);
    expect((await call("/orgs/example-org/actions/runners", "token ghs_unknown")).status).toBe(401);
    expect(
      (await call("/orgs/example-org/actions/runners", await installationToken())).status,
    ).toBe(200);
  });

  it("expires installation tokens after an hour", async () => {
    let now = Date.now();
    await start({ now: () => now });
    const token = await installationToken();
    expect((await call("/orgs/example-org/actions/runners", token)).status).toBe(200);
    now += 3_600_000;
    expect((await call("/orgs/example-org/actions/runners", token)).status).toBe(401);
  });

  it("validates JIT registration bodies", async () => {
    await start();
    const token = await installationToken();
    const path = "/orgs/example-org/actions/runners/generate-jitconfig";
    const bodies = [
      { runner_group_id: 1, labels: ["a"] },
      { name: "r", labels: ["a"] },
      { name: "r", runner_group_id: 1, labels: [] },
      { name: "r", runner_group_id: 1, labels: Array.from({ length: 101 }, (_, i) => `l${i}`) },
    ];
    for (const body of bodies) expect((await call(path, token, "POST", body)).status).toBe(422);
    const ok = {
      name: "r",
      runner_group_id: 1,
      labels: Array.from({ length: 100 }, (_, i) => `l${i}`),
    };
    expect((await call(path, token, "POST", ok)).status).toBe(201);
    expect(sim.runners()).toHaveLength(1);
  });

  it("counts the hourly rate limit in headers and refuses when it is spent", async () => {
    await start({ rateLimits: { primaryLimit: 2 } });
    const token = await installationToken();
    const first = await call("/orgs/example-org/actions/runners", token);
    expect(first.headers.get("x-ratelimit-limit")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("1");
    expect(Number(first.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    await call("/orgs/example-org/actions/runners", token);
    const refused = await call("/orgs/example-org/actions/runners", token);
    expect(refused.status).toBe(403);
    expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(refused.body.message).toMatch(/^API rate limit exceeded/);
  });

  it("charges writes 5 points and GETs 1 against the secondary limit", async () => {
    await start({ rateLimits: { secondaryPoints: 6 } });
    const token = await installationToken();
    const body = { name: "r", runner_group_id: 1, labels: ["a"] };
    expect(
      (await call("/orgs/example-org/actions/runners/generate-jitconfig", token, "POST", body))
        .status,
    ).toBe(201);
    expect((await call("/orgs/example-org/actions/runners", token)).status).toBe(200);
    const refused = await call("/orgs/example-org/actions/runners", token);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/secondary rate limit/);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // GitHub may answer the same limit with 429: the next refusal is one.
    const again = await call("/orgs/example-org/actions/runners", token);
    expect(again.status).toBe(429);
    expect(again.body.message).toMatch(/secondary rate limit/);
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("fails the requests a fault function picks, and stops listening on stop()", async () => {
    await start({ fault: ({ method }) => (method === "DELETE" ? 500 : undefined) });
    const token = await installationToken();
    expect((await call("/orgs/example-org/actions/runners/1", token, "DELETE")).status).toBe(500);
    expect(sim.requestCount()).toBe(2);
    const url = sim.url;
    await sim.stop();
    await expect(fetch(`${url}/orgs/example-org/actions/runners`)).rejects.toThrow();
  });
});
