import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createIdentityVerifier } from "../../src/assignment/create-identity-verifier.js";
import type { IdentityVerifier } from "../../src/assignment/identity-verifier.js";
import { trustCertificate } from "../../src/assignment/trusted-certificate.js";
import { renderIdentityDocument } from "../../src/sim/identity/render-identity-document.js";
import { createIdentitySigner } from "../../src/sim/identity/sign-identity.js";

const document = renderIdentityDocument({
  accountId: "123456789012",
  region: "us-east-1",
  instanceId: "i-0123456789abcdef0",
  pendingTime: "2026-12-02T22:00:00Z",
});

let signature: Buffer;
let verifier: IdentityVerifier;

beforeAll(() => {
  const signer = createIdentitySigner();
  verifier = createIdentityVerifier([trustCertificate(signer.certificatePem, { name: "test" })]);
  signature = Buffer.from(signer.sign(document), "base64");
});

describe("a tampered identity signature", () => {
  it("is refused as malformed where the BER decoder throws (a malformed time)", () => {
    // The content type's OBJECT IDENTIFIER tag turned GeneralizedTime: asn1js throws on it.
    const data = Buffer.from("06092a864886f70d010701", "hex");
    const tampered = Buffer.from(signature);
    tampered[tampered.indexOf(data)] = 0x18;
    const check = verifier.verifyIdentity(document, tampered.toString("base64"));
    expect(check).toMatchObject({ ok: false, error: { reason: "malformed" } });
  });

  it("never throws and never proves anything but the signed identity", () => {
    const genuine = verifier.verifyIdentity(document, signature.toString("base64"));
    expect(genuine.ok).toBe(true);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(signature.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.boolean(),
        (changes, truncate) => {
          const tampered = Buffer.from(signature);
          for (const [at, xor] of changes) tampered[at] = (tampered[at] ?? 0) ^ xor;
          const bytes = truncate ? tampered.subarray(0, changes[0]?.[0] ?? 0) : tampered;
          // The document may be changed the same way, so the content comparison is no shield.
          const offset = signature.indexOf(Buffer.from(document));
          const content = bytes.subarray(offset, offset + document.length).toString("utf8");
          for (const claimed of [document, content]) {
            const check = verifier.verifyIdentity(claimed, bytes.toString("base64"));
            if (check.ok) expect(check).toEqual(genuine);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
