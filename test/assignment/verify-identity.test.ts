import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createIdentityVerifier } from "../../src/assignment/create-identity-verifier.js";
import type { IdentityCheck, IdentityVerifier } from "../../src/assignment/identity-verifier.js";
import { trustCertificate } from "../../src/assignment/trusted-certificate.js";
import { httpStatusOf, IdentityError } from "../../src/errors.js";
import { renderIdentityDocument } from "../../src/sim/identity/render-identity-document.js";
import { createIdentitySigner, type IdentitySigner } from "../../src/sim/identity/sign-identity.js";

function identityDocument(fields: Record<string, unknown> = {}): string {
  return renderIdentityDocument({
    accountId: "123456789012",
    architecture: "x86_64",
    availabilityZone: "eu-west-1a",
    imageId: "ami-0123456789abcdef0",
    instanceId: "i-0123456789abcdef0",
    instanceType: "m7i.large",
    pendingTime: "2026-12-02T22:00:00Z",
    privateIp: "10.0.0.9",
    region: "eu-west-1",
    ...fields,
  });
}

function refusal(check: IdentityCheck): string {
  if (check.ok) throw new Error("expected a refusal, got an identity");
  expect(check.error).toBeInstanceOf(IdentityError);
  return check.error.reason;
}

/** The base64 signature with one bit of its decoded bytes flipped at `offset` (negative: from the end). */
function flipBit(signature: string, offset: number): string {
  const bytes = Buffer.from(signature, "base64");
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString("base64");
}

let signer: IdentitySigner;
let verifier: IdentityVerifier;

beforeAll(() => {
  signer = createIdentitySigner();
  verifier = createIdentityVerifier([trustCertificate(signer.certificatePem, { name: "test" })]);
});

describe("instance identity verification", () => {
  it("proves the identity a trusted signature vouches for", () => {
    const document = identityDocument();
    const check = verifier.verifyIdentity(document, signer.sign(document));
    expect(check).toEqual({
      ok: true,
      identity: {
        accountId: "123456789012",
        region: "eu-west-1",
        instanceId: "i-0123456789abcdef0",
        pendingTime: new Date("2026-12-02T22:00:00Z"),
        availabilityZone: "eu-west-1a",
        instanceType: "m7i.large",
        imageId: "ami-0123456789abcdef0",
        architecture: "x86_64",
      },
    });
  });

  it("serves the signature as IMDS does: BER with indefinite lengths, base64 wrapped at 76", () => {
    const signature = signer.sign(identityDocument());
    const lines = signature.split("\n");
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.slice(0, -1).every((line) => line.length === 76)).toBe(true);
    // ContentInfo SEQUENCE, then [0], then SignedData SEQUENCE: all of indefinite length.
    expect([...Buffer.from(signature, "base64").subarray(0, 2)]).toEqual([0x30, 0x80]);
  });

  it("accepts the signature wrapped, joined on one line, or with CRLF line ends", () => {
    const document = identityDocument();
    const wrapped = signer.sign(document);
    expect(wrapped).toContain("\n");
    for (const signature of [wrapped, wrapped.replace(/\n/g, ""), wrapped.replace(/\n/g, "\r\n")]) {
      expect(verifier.verifyIdentity(document, signature).ok).toBe(true);
    }
  });

  it("refuses a document that differs from the signed content by one byte", () => {
    const document = identityDocument();
    const signature = signer.sign(document);
    const forged = document.replace('"accountId" : "123456789012"', '"accountId" : "123456789013"');
    expect(forged).not.toBe(document);
    expect(refusal(verifier.verifyIdentity(forged, signature))).toBe("content-mismatch");
    expect(refusal(verifier.verifyIdentity(`${document}\n`, signature))).toBe("content-mismatch");
  });

  it("refuses a document re-serialised from the signed one, even if it means the same", () => {
    const document = identityDocument();
    const signature = signer.sign(document);
    const same = JSON.stringify(JSON.parse(document));
    expect(refusal(verifier.verifyIdentity(same, signature))).toBe("content-mismatch");
  });

  it("refuses the signature of another document", () => {
    const other = signer.sign(identityDocument({ instanceId: "i-0fedcba9876543210" }));
    expect(refusal(verifier.verifyIdentity(identityDocument(), other))).toBe("content-mismatch");
  });

  it("refuses a signature by another key that names the trusted certificate", () => {
    const document = identityDocument();
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forged = signer.sign(document, { signingKey: privateKey });
    expect(refusal(verifier.verifyIdentity(document, forged))).toBe("bad-signature");
  });

  it("refuses a signature with one bit changed", () => {
    const document = identityDocument();
    // The RSA signature's last octet: before the three end-of-contents of SignedData, [0], ContentInfo.
    const broken = flipBit(signer.sign(document), -7);
    expect(refusal(verifier.verifyIdentity(document, broken))).toBe("bad-signature");
  });

  it("refuses signed content changed inside the message (the message-digest attribute)", () => {
    const document = identityDocument();
    const signature = signer.sign(document);
    // Byte 56 is the first octet of the document inside the OCTET STRING (30 80 06 09 ... 04 82 ll ll).
    const offset = Buffer.from(signature, "base64").indexOf(Buffer.from(document));
    const tampered = flipBit(signature, offset + 10);
    const tamperedDocument = Buffer.from(tampered, "base64")
      .subarray(offset, offset + document.length)
      .toString("utf8");
    expect(refusal(verifier.verifyIdentity(tamperedDocument, tampered))).toBe("bad-signature");
  });

  it("refuses a message whose signer carries its own certificate (no trust from the message)", () => {
    const document = identityDocument();
    const stranger = createIdentitySigner();
    const signature = stranger.sign(document, { carryCertificate: true });
    expect(refusal(verifier.verifyIdentity(document, signature))).toBe("untrusted-signer");
  });

  it("refuses a carried certificate that copies the trusted one's issuer and serial with another key", () => {
    const document = identityDocument();
    const impostor = createIdentitySigner({ serialNumber: signer.serialNumber });
    const signature = impostor.sign(document, { carryCertificate: true });
    expect(refusal(verifier.verifyIdentity(document, signature))).toBe("bad-signature");
  });

  it("verifies over the DER of signed attributes that arrive in BER (indefinite length, any order)", () => {
    const document = identityDocument();
    for (const encoding of ["indefinite", "indefinite-unsorted"] as const) {
      const signature = signer.sign(document, { signedAttributesEncoding: encoding });
      expect(verifier.verifyIdentity(document, signature).ok, encoding).toBe(true);
    }
  });

  it("refuses garbage without echoing it", () => {
    const document = identityDocument();
    const genuine = signer.sign(document);
    const garbage = [
      "",
      "not base64 at all!",
      "QUJD", // "ABC"
      Buffer.from("{}").toString("base64"),
      genuine.slice(0, genuine.length / 2),
      `${genuine.slice(0, 100)}!!!!${genuine.slice(100)}`, // outside the alphabet: not skipped
      // Bytes after the message (a NULL): one message is one BER element, nothing more.
      Buffer.concat([Buffer.from(genuine, "base64"), Uint8Array.of(5, 0)]).toString("base64"),
      Buffer.from(Buffer.from(genuine, "base64").subarray(0, 300)).toString("base64"),
    ];
    for (const signature of garbage) {
      const check = verifier.verifyIdentity(document, signature);
      expect(refusal(check)).toBe("malformed");
      if (!check.ok && signature.length > 8) {
        expect(check.error.message).not.toContain(signature.slice(0, 16));
      }
    }
  });

  it("refuses a genuine signature over something that is not an identity document", () => {
    for (const text of ["not json", JSON.stringify({ accountId: "123456789012" })]) {
      expect(refusal(verifier.verifyIdentity(text, signer.sign(text)))).toBe("bad-document");
    }
  });

  it("binds a Region's certificate to documents of that Region", () => {
    const regional = createIdentityVerifier([
      trustCertificate(signer.certificatePem, { name: "aws/us-east-1", region: "us-east-1" }),
    ]);
    const east = identityDocument({ region: "us-east-1" });
    expect(regional.verifyIdentity(east, signer.sign(east)).ok).toBe(true);
    const west = identityDocument({ region: "eu-west-1" });
    expect(refusal(regional.verifyIdentity(west, signer.sign(west)))).toBe("wrong-region");
  });

  it("trusts nothing when no certificate is configured", () => {
    const document = identityDocument();
    const none = createIdentityVerifier([]);
    expect(refusal(none.verifyIdentity(document, signer.sign(document)))).toBe("untrusted-signer");
  });

  it("is answered 401 through the error catalog", () => {
    const document = identityDocument();
    const check = verifier.verifyIdentity(`${document} `, signer.sign(document));
    expect(check.ok).toBe(false);
    if (!check.ok) expect(httpStatusOf(check.error)).toBe(401);
  });
});
