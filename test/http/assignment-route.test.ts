import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AssignmentAnswer } from "../../src/assignment/assignments.js";
import { createIdentityVerifier } from "../../src/assignment/create-identity-verifier.js";
import type { InstanceIdentity } from "../../src/assignment/identity-verifier.js";
import { trustCertificate } from "../../src/assignment/trusted-certificate.js";
import { Secret } from "../../src/config/secret.js";
import type { RefusalReason } from "../../src/core/assignment-verdict.js";
import { ASSIGNMENT_BODY_LIMIT_BYTES } from "../../src/http/assignment-route.js";
import { buildApp } from "../../src/http/build-app.js";
import { renderIdentityDocument } from "../../src/sim/identity/render-identity-document.js";
import { createIdentitySigner, type IdentitySigner } from "../../src/sim/identity/sign-identity.js";
import { memoryLogger, testFleet } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

const JIT = "eyJhbGciOiJub25lIn0.jit-config-of-the-test-runner";
const PATH = "/runner/v1/assignment";

describe("POST /runner/v1/assignment", () => {
  let t: TestLedger;
  let signer: IdentitySigner;
  let app: FastifyInstance;
  const log = memoryLogger();
  // What the assignment service answers, per instance, and whom it was asked for.
  const answers = new Map<string, AssignmentAnswer>();
  const asked: InstanceIdentity[] = [];
  const refusals: RefusalReason[] = [];

  beforeAll(async () => {
    t = await testLedger("pglite", "");
    signer = createIdentitySigner();
    const fleet = testFleet();
    app = buildApp({
      ledger: t.ledger,
      logger: log.logger,
      webhookSecrets: [new Secret("s")],
      webhookBodyLimitBytes: 1024 * 1024,
      pools: fleet.pools,
      bindingLabelPrefix: fleet.bindingLabelPrefix,
      now: () => new Date(),
      assignment: {
        verifier: createIdentityVerifier([trustCertificate(signer.certificatePem, { name: "t" })]),
        assignments: {
          answer: async (identity) => {
            asked.push(identity);
            return answers.get(identity.instanceId) ?? { kind: "wait", retryAfterSeconds: 2 };
          },
        },
        now: () => new Date(),
        onRefusal: (reason) => refusals.push(reason),
        rate: { capacity: 3, perSecond: 0.001 },
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await t.close();
  });
  beforeEach(() => {
    answers.clear();
    asked.length = 0;
    refusals.length = 0;
  });

  let serial = 0;
  /** A fresh instance's document and signature, as IMDS serves them. */
  function identityOf(instanceId = `i-0a${String(++serial).padStart(15, "0")}`) {
    const document = renderIdentityDocument({
      accountId: "123456789012",
      region: "eu-west-1",
      instanceId,
      pendingTime: "2026-12-03T06:00:00Z",
    });
    return { instanceId, document, signature: signer.sign(document) };
  }
  const ask = (payload: unknown, contentType = "application/json") =>
    app.inject({
      method: "POST",
      url: PATH,
      headers: { "content-type": contentType },
      payload: typeof payload === "string" ? payload : JSON.stringify(payload),
    });

  it("answers the JIT config to a verified VM, uncached, and logs it nowhere", async () => {
    const vm = identityOf();
    answers.set(vm.instanceId, { kind: "assigned", jitConfig: new Secret(JIT) });
    const answer = await ask({ document: vm.document, signature: vm.signature });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ jitConfig: JIT });
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(asked.map((i) => i.instanceId)).toEqual([vm.instanceId]);
    expect(log.lines()).toContain(vm.instanceId);
    expect(log.lines()).not.toContain("jit-config-of-the-test-runner");
  });

  it("answers 204 with Retry-After when there is nothing yet", async () => {
    const vm = identityOf();
    const answer = await ask({ document: vm.document, signature: vm.signature });
    expect(answer.statusCode).toBe(204);
    expect(answer.headers["retry-after"]).toBe("2");
    expect(answer.body).toBe("");
  });

  it("answers 403 and 410 with their reason, counting each refusal", async () => {
    const stranger = identityOf();
    answers.set(stranger.instanceId, { kind: "refuse", reason: "unknown-instance" });
    const refused = await ask({ document: stranger.document, signature: stranger.signature });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().message).toContain("unknown-instance");
    const replayed = identityOf();
    answers.set(replayed.instanceId, { kind: "gone", reason: "runner-started" });
    const gone = await ask({ document: replayed.document, signature: replayed.signature });
    expect(gone.statusCode).toBe(410);
    expect(gone.json().message).toContain("runner-started");
    expect(refusals).toEqual(["unknown-instance", "runner-started"]);
    expect(log.lines()).toMatch(/"reason":"runner-started".*"msg":"assignment refused/);
  });

  it("answers 401 to a signature that does not prove the document, without asking the service", async () => {
    const vm = identityOf();
    const other = identityOf();
    const forged = await ask({ document: vm.document, signature: other.signature });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error).toBe("IDENTITY_INVALID");
    const oneByte = await ask({ document: `${vm.document} `, signature: vm.signature });
    expect(oneByte.statusCode).toBe(401);
    const selfSigned = createIdentitySigner();
    const foreign = await ask({ document: vm.document, signature: selfSigned.sign(vm.document) });
    expect(foreign.statusCode).toBe(401);
    expect(asked).toEqual([]);
  });

  it.each([
    ["not JSON", "{not json", "the body is not JSON"],
    ["no signature", { document: "{}" }, "signature"],
    ["a document that is not a string", { document: 1, signature: "x" }, "document"],
  ])("answers 400 to a body with %s, naming it", async (_, payload, named) => {
    const answer = await ask(payload);
    expect(answer.statusCode).toBe(400);
    expect(answer.json().message).toContain(named);
    expect(asked).toEqual([]);
  });

  it("answers 413 to a body over 16 KiB, before reading it", async () => {
    const vm = identityOf();
    const padded = JSON.stringify({
      document: vm.document,
      signature: vm.signature,
      pad: "x".repeat(ASSIGNMENT_BODY_LIMIT_BYTES),
    });
    const answer = await ask(padded);
    expect(answer.statusCode).toBe(413);
    expect(asked).toEqual([]);
  });

  it("limits asks per instance, not per address: 429 with Retry-After for that VM only", async () => {
    const busy = identityOf();
    const body = { document: busy.document, signature: busy.signature };
    for (let i = 0; i < 3; i++) expect((await ask(body)).statusCode).toBe(204);
    const limited = await ask(body);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    // Another VM behind the same address (every VM shares the NAT's) is not held back.
    const neighbour = identityOf();
    expect(
      (await ask({ document: neighbour.document, signature: neighbour.signature })).statusCode,
    ).toBe(204);
    expect(asked.filter((i) => i.instanceId === busy.instanceId)).toHaveLength(3);
  });
});
