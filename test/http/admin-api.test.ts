import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { REFUSED_ATTEMPTS } from "../../src/http/admin-auth.js";
import { buildApp } from "../../src/http/build-app.js";
import { prometheusMetrics } from "../../src/metrics/prometheus-metrics.js";
import { jobEvent, memoryLogger, testFleet } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

const TOKEN = "admin-token-for-tests-7c1e";
const fleet = testFleet();
const now = new Date("2026-11-23T12:00:00Z");

function appWith(t: TestLedger, token: string | undefined, log = memoryLogger()): FastifyInstance {
  const { registry, metrics } = prometheusMetrics(t.ledger);
  metrics.launched("linux");
  return buildApp({
    ledger: t.ledger,
    logger: log.logger,
    webhookSecrets: [new Secret("webhook-secret-for-tests")],
    webhookBodyLimitBytes: 1024 * 1024,
    pools: fleet.pools,
    bindingLabelPrefix: fleet.bindingLabelPrefix,
    now: () => now,
    admin: {
      token: token === undefined ? undefined : new Secret(token),
      fleet,
      registry,
      repositoryLimits: { pools: ["linux"], caps: { byPool: new Map(), fleet: 1 } },
    },
  });
}

const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;

describe("the admin API, status page and metrics", () => {
  let t: TestLedger;
  let app: FastifyInstance;
  const log = memoryLogger();

  beforeAll(async () => {
    t = await testLedger("pglite", "");
    await t.ledger.ingest(
      { id: "d1", event: "workflow_job", receivedAt: now },
      jobEvent({ jobId: 42, repository: "example-org/secret-project" }),
      "linux",
    );
    app = appWith(t, TOKEN, log);
  });
  afterAll(async () => {
    await app.close();
    await t.close();
  });

  const paths = ["/api/usage", "/api/jobs", "/", "/metrics", "/api/usage?format=csv"];

  it.each(paths)("answers %s without a token with 401 and no data", async (url) => {
    for (const authorization of [
      undefined,
      "Bearer wrong-token",
      basic("wrong"),
      "Bearer",
      TOKEN,
    ]) {
      const res = await app.inject({
        url,
        // An address of its own per route: refused attempts are counted per address.
        remoteAddress: `192.0.2.${paths.indexOf(url) + 1}`,
        ...(authorization === undefined ? {} : { headers: { authorization } }),
      });
      expect(res.statusCode).toBe(401);
      if (url.startsWith("/api")) expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.headers["www-authenticate"]).toMatch(/^(Bearer|Basic) realm="mayfly"/);
      expect(res.json()).toEqual({
        error: "UNAUTHORIZED",
        message: "a valid admin token is required (Authorization: Bearer ...)",
      });
      expect(res.body).not.toContain("secret-project");
    }
  });

  it("asks a browser for the token with Basic on the status page", async () => {
    const res = await app.inject({ url: "/" });
    expect(res.headers["www-authenticate"]).toBe('Basic realm="mayfly", charset="UTF-8"');
    const ok = await app.inject({ url: "/", headers: { authorization: basic(TOKEN) } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(ok.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(ok.body).toContain("example-org/secret-project");
    // Basic credentials are "user:password"; the token alone, with no colon, is not them.
    const bare = `Basic ${Buffer.from(TOKEN).toString("base64")}`;
    expect((await app.inject({ url: "/", headers: { authorization: bare } })).statusCode).toBe(401);
  });

  it("serves the reports and metrics with the token", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const jobs = await app.inject({ url: "/api/jobs?state=live", headers: auth });
    expect(jobs.statusCode).toBe(200);
    expect(jobs.json().jobs).toMatchObject([{ jobId: 42, state: "queued", vm: null }]);
    expect(jobs.json().repositoryLimits).toEqual([
      {
        pool: "linux",
        limit: 1,
        repositories: [{ repository: "example-org/secret-project", runners: 0, held: 0 }],
      },
    ]);
    expect(jobs.headers["cache-control"]).toBe("no-store");
    const usage = await app.inject({ url: "/api/usage?by=repo,day", headers: auth });
    expect(usage.headers["cache-control"]).toBe("no-store");
    expect(usage.json()).toMatchObject({ by: ["repo", "day"], rows: [], total: { vms: 0 } });
    const metrics = await app.inject({ url: "/metrics", headers: auth });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('mayfly_jobs{pool="linux",state="queued"} 1');
    expect(metrics.body).toContain('mayfly_launches_total{pool="linux"} 1');
    expect(metrics.body).toContain('mayfly_subnets{state="free"} 0');
  });

  it.each([
    ["/api/usage?by=colour", 'by: unknown dimension "colour"'],
    ["/api/usage?since=yesterday", "since: expected a date"],
    ["/api/usage?since=2026-11-20&until=2026-11-10", "until (2026-11-10) must be after since"],
    ["/api/usage?format=xml", "format: expected"],
    ["/api/usage?by=repo&by=day", "by: give it once"],
    ["/api/jobs?limit=0", "limit: expected a whole number"],
    ["/api/jobs?state=running", 'state: unknown state "running"'],
  ])("answers %s with 400 naming the problem", async (url, message) => {
    const res = await app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(400);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.json().error).toBe("QUERY_INVALID");
    expect(res.json().message).toContain(message);
  });

  it("answers 429 to an address past its refused attempts, even with the token, across routes", async () => {
    const from = (remoteAddress: string, url: string, authorization = "Bearer wrong") =>
      app.inject({ url, remoteAddress, headers: { authorization } });
    const codes: number[] = [];
    for (let i = 0; i < REFUSED_ATTEMPTS.capacity; i++)
      codes.push((await from("198.51.100.7", paths[i % paths.length] as string)).statusCode);
    expect(new Set(codes)).toEqual(new Set([401]));
    // The token is not even compared now: guessing goes no faster than the refill.
    const right = await from("198.51.100.7", "/api/jobs", `Bearer ${TOKEN}`);
    expect(right.statusCode).toBe(429);
    expect(Number(right.headers["retry-after"])).toBeGreaterThan(0);
    expect(right.json()).toMatchObject({ error: "TOO_MANY_ATTEMPTS" });
    expect(right.body).not.toContain("secret-project");
    expect((await from("198.51.100.7", "/metrics")).statusCode).toBe(429);
    // Another address is not held back by it.
    expect((await from("198.51.100.8", "/api/jobs", `Bearer ${TOKEN}`)).statusCode).toBe(200);
  });

  it("never logs the admin token", () => {
    expect(log.lines()).not.toContain(TOKEN);
    expect(log.lines()).not.toContain(Buffer.from(`admin:${TOKEN}`).toString("base64"));
  });

  it("lets nothing through when no admin token is configured", async () => {
    const open = appWith(t, undefined);
    for (const url of paths) {
      const res = await open.inject({ url, headers: { authorization: "Bearer " } });
      expect(res.statusCode).toBe(401);
    }
    await open.close();
  });
});
