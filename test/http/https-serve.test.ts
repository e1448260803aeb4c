import { X509Certificate } from "node:crypto";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { buildApp } from "../../src/http/build-app.js";
import { selfSignedCertificate } from "../../src/http/self-signed-certificate.js";
import { memoryLogger, testFleet } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

const fleet = testFleet();

/** GET over TLS without checking the certificate, as a load balancer does; its status and cert. */
function get(port: number, path: string) {
  return new Promise<{ status: number; cert: X509Certificate; protocol: string | null }>(
    (resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, rejectUnauthorized: false }, (res) => {
        res.resume();
        const socket = res.socket as TLSSocket;
        resolve({
          status: res.statusCode ?? 0,
          cert: new X509Certificate(socket.getPeerCertificate().raw),
          protocol: socket.getProtocol(),
        });
      });
      req.on("error", reject);
      req.end();
    },
  );
}

describe("the controller over HTTPS", () => {
  let t: TestLedger | undefined;
  let close: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await close?.();
    await t?.close();
  });

  it("answers over TLS with the certificate it made at start, and refuses plain HTTP", async () => {
    t = await testLedger("pglite", "");
    const now = new Date();
    const tls = await selfSignedCertificate(["localhost"], now);
    const app = buildApp({
      tls,
      ledger: t.ledger,
      logger: memoryLogger().logger,
      webhookSecrets: [new Secret("webhook-secret-for-tests")],
      webhookBodyLimitBytes: 1024 * 1024,
      pools: fleet.pools,
      bindingLabelPrefix: fleet.bindingLabelPrefix,
      now: () => now,
    });
    close = () => app.close();
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;

    const answer = await get(port, "/healthz");
    expect(answer.status).toBe(200);
    expect(answer.cert.subject).toBe("CN=localhost");
    expect(answer.cert.subjectAltName).toBe("DNS:localhost");
    expect(answer.cert.verify(answer.cert.publicKey)).toBe(true);
    expect(new Date(answer.cert.validTo).getTime()).toBeGreaterThan(
      now.getTime() + 300 * 86_400_000,
    );
    expect(answer.protocol).toMatch(/^TLSv1\.[23]$/);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it("makes a fresh key each start", async () => {
    const [a, b] = await Promise.all([selfSignedCertificate(), selfSignedCertificate()]);
    expect(a.key).not.toBe(b.key);
    expect(new X509Certificate(a.cert).serialNumber).not.toBe(
      new X509Certificate(b.cert).serialNumber,
    );
  });
});
