import { randomUUID } from "node:crypto";
import examples from "@octokit/webhooks-examples/api.github.com/index.json" with { type: "json" };
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { type AppDeps, buildApp } from "../../src/http/build-app.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { memoryLogger, sign, testFleet } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

const SECRET = "current-webhook-secret-5b1f";
const OLD_SECRET = "previous-webhook-secret-a09c";
const fleet = testFleet();
const publicExamples = (examples as { name: string; examples: Record<string, unknown>[] }[]).find(
  (e) => e.name === "workflow_job",
)?.examples as Record<string, unknown>[];
// GitHub's examples come from public repositories, whose jobs no pool serves by default.
const workflowJobExamples = publicExamples.map((e) => {
  const copy = structuredClone(e) as { repository: Record<string, unknown> };
  copy.repository.private = true;
  copy.repository.visibility = "private";
  return copy as Record<string, unknown>;
});

type Payload = {
  workflow_job: Record<string, unknown> & { labels: string[] };
  repository: { owner: Record<string, unknown> };
  organization?: unknown;
};

function appWith(
  ledger: Ledger,
  logger = memoryLogger().logger,
  bodyLimit = 1024 * 1024,
  over: Partial<AppDeps> = {},
): FastifyInstance {
  return buildApp({
    ledger,
    logger,
    webhookSecrets: [new Secret(SECRET), new Secret(OLD_SECRET)],
    webhookBodyLimitBytes: bodyLimit,
    pools: fleet.pools,
    bindingLabelPrefix: fleet.bindingLabelPrefix,
    now: () => new Date("2026-11-23T12:00:00Z"),
    ...over,
  });
}

/** One signed delivery of `payload` to an app that is not listening, and its status. */
async function deliverTo(app: FastifyInstance, payload: unknown): Promise<number> {
  const body = JSON.stringify(payload);
  const res = await app.inject({
    method: "POST",
    url: "/webhook",
    payload: body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "workflow_job",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": sign(body, SECRET),
    },
  });
  await app.close();
  return res.statusCode;
}

describe("POST /webhook over HTTP", () => {
  let t: TestLedger;
  let app: FastifyInstance;
  let base: string;
  const log = memoryLogger();

  const post = (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
    fetch(`${base}/webhook`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": "workflow_job",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": sign(body, SECRET),
        ...headers,
      },
    });
  const stored = async () => ({
    jobs: await t.query("select id from jobs"),
    deliveries: await t.query("select id from deliveries"),
  });

  beforeAll(async () => {
    t = await testLedger("pglite", "");
    app = appWith(t.ledger, log.logger, 64 * 1024);
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app.close();
    await t.close();
  });
  beforeEach(() => t.truncate());

  it("records all eight workflow_job examples, with and without installation", async () => {
    expect(workflowJobExamples).toHaveLength(8);
    expect(workflowJobExamples.filter((e) => !e.installation)).toHaveLength(3);
    for (const example of workflowJobExamples) {
      const response = await post(JSON.stringify(example));
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ outcome: "recorded" });
    }
    expect((await stored()).deliveries).toHaveLength(8);
    expect(await t.ledger.getJob(2832853555)).toMatchObject({
      state: "in_progress",
      pool: "gpu",
      org: "octo-org",
      runnerName: "my runner",
      runAttempt: 1,
      installationId: null,
    });
    // Two examples complete job 289782451 with different conclusions; the first one seen stays.
    const firstCompleted = workflowJobExamples.find((e) => e.action === "completed") as {
      workflow_job: { conclusion: string };
    };
    expect(await t.ledger.getJob(289782451)).toMatchObject({
      state: "completed",
      pool: "hosted-lookalike",
      conclusion: firstCompleted.workflow_job.conclusion,
      repository: "Codertocat/Hello-World",
      headBranch: "main",
    });
    expect(await t.ledger.getJob(12877621891)).toMatchObject({ state: "waiting", pool: "k8s" });
  });

  it("answers a repeated delivery as a duplicate and changes nothing", async () => {
    const body = JSON.stringify(workflowJobExamples.find((e) => e.action === "queued"));
    const deliveryId = randomUUID();
    expect((await post(body, { "x-github-delivery": deliveryId })).status).toBe(202);
    const again = await post(body, { "x-github-delivery": deliveryId });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ outcome: "duplicate" });
    expect((await stored()).deliveries).toHaveLength(1);
  });

  it("accepts a delivery signed with the previous secret during rotation", async () => {
    const body = JSON.stringify(workflowJobExamples[0]);
    expect((await post(body, { "x-hub-signature-256": sign(body, OLD_SECRET) })).status).toBe(202);
  });

  it.each([
    ["a wrong signature", { "x-hub-signature-256": sign("something else", SECRET) }],
    [
      "a signature made with another secret",
      { "x-hub-signature-256": sign("{}", "not-our-secret") },
    ],
    ["no signature", { "x-hub-signature-256": "" }],
    [
      "a SHA-1 signature",
      { "x-hub-signature-256": "sha1=0123456789abcdef0123456789abcdef01234567" },
    ],
  ])("rejects %s with 401 and stores nothing", async (_, headers) => {
    const body = JSON.stringify(workflowJobExamples[0]);
    const response = await post(body, headers);
    expect(response.status).toBe(401);
    const text = await response.text();
    expect(text).not.toContain("octo-org");
    expect(JSON.parse(text).error).toBe("SIGNATURE_INVALID");
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("rejects a body that is not UTF-8 with 401 and stores nothing, even signed over its bytes", async () => {
    // GitHub signs UTF-8 JSON. Decoded leniently, a byte that is not UTF-8 would be stored as
    // U+FFFD and the signature of one such body would verify another.
    const text = JSON.stringify(workflowJobExamples[0]);
    const at = text.indexOf('"Test workflow"') + 1;
    const body = Buffer.concat([
      Buffer.from(text.slice(0, at)),
      Buffer.from([0xff]),
      Buffer.from(text.slice(at)),
    ]);
    const response = await post(body, { "x-hub-signature-256": sign(body, SECRET) });
    expect(response.status).toBe(401);
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("rejects signed malformed JSON with 400 and stores nothing", async () => {
    const response = await post('{"action": "queued", ');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: "PAYLOAD_INVALID",
      message: "the body is not valid JSON",
    });
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("rejects a payload that fails the schema with 400 naming the field, without echoing it", async () => {
    const example = structuredClone(workflowJobExamples[0]) as {
      workflow_job: Record<string, unknown>;
    };
    example.workflow_job.id = "DROP TABLE jobs";
    const response = await post(JSON.stringify(example));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string };
    expect(body.message).toContain("workflow_job.id");
    expect(body.message).not.toContain("DROP TABLE");
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("rejects a signed queued delivery with U+0000 in a label with 400 naming it, storing nothing", async () => {
    const queued = structuredClone(workflowJobExamples.find((e) => e.action === "queued")) as {
      workflow_job: { labels: string[] };
    };
    // The binding label is ignored for pool choice: without U+0000 this job would be recorded.
    queued.workflow_job.labels.push("mayfly-run-nul\u0000byte");
    const response = await post(JSON.stringify(queued));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe("PAYLOAD_INVALID");
    expect(body.message).toContain(
      `workflow_job.labels.${queued.workflow_job.labels.length - 1}: must not contain U+0000`,
    );
    expect(body.message).not.toContain("mayfly-run-nul");
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it.each([
    ["workflow_job.name", "U+0000", (p: Payload) => (p.workflow_job.name = "build\u0000")],
    [
      "workflow_job.head_branch",
      "a lone UTF-16 surrogate",
      (p: Payload) => (p.workflow_job.head_branch = "main\ud800"),
    ],
    [
      "workflow_job.workflow_name",
      "a lone UTF-16 surrogate",
      (p: Payload) => (p.workflow_job.workflow_name = "\udfffci"),
    ],
    ["workflow_job.runner_name", "U+0000", (p: Payload) => (p.workflow_job.runner_name = "\u0000")],
    ["repository.owner.login", "U+0000", (p: Payload) => (p.repository.owner.login = "octo\u0000")],
    [
      "organization.login",
      "a lone UTF-16 surrogate",
      (p: Payload) => (p.organization = { login: "\ud83d" }),
    ],
  ])("rejects %s holding %s with 400 naming it, storing nothing", async (field, what, spoil) => {
    const example = structuredClone(
      workflowJobExamples.find((e) => e.action === "queued"),
    ) as Payload;
    spoil(example);
    const response = await post(JSON.stringify(example));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain(
      `${field}: must not contain ${what}`,
    );
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("accepts text PostgreSQL stores as sent: emoji (surrogate pairs) and other non-ASCII", async () => {
    const example = structuredClone(
      workflowJobExamples.find((e) => e.action === "queued"),
    ) as Payload;
    example.workflow_job.name = "build 🚀 ünïcødé";
    expect((await post(JSON.stringify(example))).status).toBe(202);
    const id = example.workflow_job.id as number;
    expect((await t.ledger.getJob(id))?.jobName).toBe("build 🚀 ünïcødé");
  });

  it("rejects a delivery without a delivery ID with 400", async () => {
    const response = await post(JSON.stringify(workflowJobExamples[0]), {
      "x-github-delivery": "",
    });
    expect(response.status).toBe(400);
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("rejects a body over the size limit with 413", async () => {
    const body = JSON.stringify({ ...workflowJobExamples[0], padding: "x".repeat(70 * 1024) });
    const response = await post(body);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: "BODY_TOO_LARGE" });
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("rejects a body that is not JSON by content type with 415", async () => {
    const body = JSON.stringify(workflowJobExamples[0]);
    const response = await post(body, { "content-type": "text/plain" });
    expect(response.status).toBe(415);
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("accepts the form-encoded webhook format, signed over the form body", async () => {
    const form = new URLSearchParams({
      payload: JSON.stringify(workflowJobExamples[0]),
    }).toString();
    const response = await post(form, {
      "content-type": "application/x-www-form-urlencoded",
      "x-hub-signature-256": sign(form, SECRET),
    });
    expect(response.status).toBe(202);
  });

  it("answers ping", async () => {
    const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    const response = await post(body, { "x-github-event": "ping" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ outcome: "pong" });
  });

  it("answers 204 to events and actions it does not handle, storing nothing", async () => {
    expect(
      (await post(JSON.stringify({ ref: "refs/heads/main" }), { "x-github-event": "push" })).status,
    ).toBe(204);
    const future = { ...workflowJobExamples[0], action: "some_future_action" };
    expect((await post(JSON.stringify(future))).status).toBe(204);
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("answers 204 to a job that matches no pool, storing nothing", async () => {
    const example = structuredClone(workflowJobExamples[0]) as {
      workflow_job: { labels: string[] };
    };
    example.workflow_job.labels = ["self-hosted", "linux", "x64"];
    expect((await post(JSON.stringify(example))).status).toBe(204);
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
  });

  it("answers 204 to a public repository's job, storing nothing, unless its pool allows them", async () => {
    const example = publicExamples[1] as { repository: { visibility: string } };
    expect(example.repository.visibility).toBe("public");
    expect((await post(JSON.stringify(example))).status).toBe(204);
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });

    const open = appWith(t.ledger, undefined, undefined, {
      pools: fleet.pools.map((p) => ({ ...p, publicRepositories: "allow" as const })),
    });
    expect(await deliverTo(open, example)).toBe(202);
    expect((await stored()).jobs).toHaveLength(1);
  });

  it("answers 204 to a job of an installation the fleet does not list, storing nothing", async () => {
    const example = structuredClone(
      workflowJobExamples.find((e) => (e as { installation?: unknown }).installation),
    ) as {
      installation: { id: number };
      organization?: { login: string };
      repository: { owner: { login: string } };
    };
    const login = example.organization?.login ?? example.repository.owner.login;
    const send = (installations: (number | string)[]) =>
      deliverTo(appWith(t.ledger, undefined, undefined, { installations }), example);
    expect(await send([example.installation.id + 1, "someone-else"])).toBe(204);
    expect(await stored()).toEqual({ jobs: [], deliveries: [] });
    expect(await send([example.installation.id])).toBe(202);
    expect(await send([login.toUpperCase()])).toBe(202);
    expect((await stored()).jobs).toHaveLength(1);
  });

  it("tells the loops of each recorded job event, not of a duplicate", async () => {
    const told: string[] = [];
    const kicking = buildApp({
      ledger: t.ledger,
      logger: memoryLogger().logger,
      webhookSecrets: [new Secret(SECRET)],
      webhookBodyLimitBytes: 1024 * 1024,
      pools: fleet.pools,
      bindingLabelPrefix: fleet.bindingLabelPrefix,
      now: () => new Date(),
      onJobRecorded: (event) => told.push(event.action),
    });
    const send = (example: Record<string, unknown> | undefined, deliveryId: string) => {
      const body = JSON.stringify(example);
      return kicking.inject({
        method: "POST",
        url: "/webhook",
        payload: body,
        headers: {
          "content-type": "application/json",
          "x-github-event": "workflow_job",
          "x-github-delivery": deliveryId,
          "x-hub-signature-256": sign(body, SECRET),
        },
      });
    };
    const queued = workflowJobExamples.find((e) => e.action === "queued");
    expect((await send(queued, "kick-1")).statusCode).toBe(202);
    expect((await send(queued, "kick-1")).statusCode).toBe(200);
    expect(
      (
        await send(
          workflowJobExamples.find((e) => e.action === "completed"),
          "kick-2",
        )
      ).statusCode,
    ).toBe(202);
    expect(told).toEqual(["queued", "completed"]);
    await kicking.close();
  });

  it("answers /healthz and /readyz", async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  it("never logs the secret, the signature or the payload", async () => {
    const body = JSON.stringify(workflowJobExamples[0]);
    await post(body);
    await post(body, { "x-hub-signature-256": sign(body, "wrong") });
    const lines = log.lines();
    expect(lines).toContain('"msg":"webhook handled"');
    expect(lines).toContain("deliveryId");
    expect(lines).not.toContain(SECRET);
    expect(lines).not.toContain(OLD_SECRET);
    expect(lines).not.toContain(sign(body, SECRET).slice(7));
    expect(lines).not.toContain("my runner");
  });
});

describe("when the database is down", () => {
  // A ledger whose database is gone: every query fails, the error naming the connection.
  const refused = async () => {
    throw new Error("connection refused to postgres://mayfly:hunter2@db:5432/mayfly");
  };
  const broken = new Proxy({} as Ledger, {
    get: (_, method) => (method === "close" ? async () => {} : refused),
  });

  it("answers 500 without detail, so GitHub marks the delivery failed, and logs no password", async () => {
    const log = memoryLogger();
    const app = appWith(broken, log.logger);
    const body = JSON.stringify(workflowJobExamples[0]);
    const response = await app.inject({
      method: "POST",
      url: "/webhook",
      payload: body,
      headers: {
        "content-type": "application/json",
        "x-github-event": "workflow_job",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": sign(body, SECRET),
      },
    });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: "INTERNAL", message: "internal error" });
    expect(log.lines()).toContain("connection refused");
    expect(log.lines()).not.toContain("hunter2");
    await app.close();
  });

  it("is not ready", async () => {
    const app = appWith(broken);
    const response = await app.inject({ method: "GET", url: "/readyz" });
    expect(response.statusCode).toBe(503);
    await app.close();
  });
});
