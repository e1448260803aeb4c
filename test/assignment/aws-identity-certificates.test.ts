import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AWS_IDENTITY_CERTIFICATES } from "../../src/assignment/aws-identity-certificates.js";
import { createIdentityVerifier } from "../../src/assignment/create-identity-verifier.js";
import { trustedIdentityCertificates } from "../../src/assignment/trusted-identity-certificates.js";
import { renderIdentityDocument } from "../../src/sim/identity/render-identity-document.js";

const fixture = (name: string) =>
  readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");

// Two documents AWS signed in 2021 (published as test vectors in gravitational/teleport's
// tests): the real /rsa2048 shape, checked against the certificates mayfly ships.
const REAL = [
  { region: "us-west-2", accountId: "278576220453", instanceId: "i-078517ca8a70a1dde" },
  { region: "us-west-1", accountId: "883474662888", instanceId: "i-01b940c45fd11fe74" },
];

describe("AWS's RSA-2048 identity certificates shipped with mayfly", () => {
  it("holds one certificate per Region, each RSA-2048 and self-signed intact", () => {
    const regions = AWS_IDENTITY_CERTIFICATES.map((entry) => entry.region);
    expect(new Set(regions).size).toBe(regions.length);
    expect(regions).toEqual(expect.arrayContaining(["us-east-1", "eu-west-1", "cn-north-1"]));
    for (const { region, pem } of AWS_IDENTITY_CERTIFICATES) {
      const certificate = new X509Certificate(pem);
      // A changed character anywhere breaks the certificate's own signature.
      expect(certificate.verify(certificate.publicKey), region).toBe(true);
      expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength, region).toBe(2048);
      expect(certificate.subject).toContain("O=Amazon Web Services LLC");
    }
  });

  it("files each Region under its partition", () => {
    const partitionOf = (region: string) =>
      AWS_IDENTITY_CERTIFICATES.find((entry) => entry.region === region)?.partition;
    expect(partitionOf("us-east-1")).toBe("aws");
    expect(partitionOf("cn-northwest-1")).toBe("aws-cn");
    expect(partitionOf("us-gov-west-1")).toBe("aws-us-gov");
    expect(partitionOf("eusc-de-east-1")).toBe("aws-eusc");
  });

  it.each(REAL)("verifies a real signature of $region with the shipped certificates", (real) => {
    const verifier = createIdentityVerifier(trustedIdentityCertificates({}));
    const signature = fixture(`aws-${real.region}.rsa2048`);
    expect(signature.split("\n")[0]).toHaveLength(76);
    const check = verifier.verifyIdentity(fixture(`aws-${real.region}.document`), signature);
    expect(check).toMatchObject({ ok: true, identity: real });
  });

  it("refuses a real signature when its Region's certificate is missing", () => {
    const trusted = trustedIdentityCertificates({});
    const without = trusted.filter((certificate) => certificate.region !== "us-west-2");
    expect(without).toHaveLength(trusted.length - 1);
    const check = createIdentityVerifier(without).verifyIdentity(
      fixture("aws-us-west-2.document"),
      fixture("aws-us-west-2.rsa2048"),
    );
    expect(check).toMatchObject({ ok: false, error: { reason: "untrusted-signer" } });
  });

  it("renders simulated documents in the shape IMDS serves", () => {
    const real = fixture("aws-us-west-2.document");
    const fields = JSON.parse(real) as Record<string, unknown>;
    expect(renderIdentityDocument(fields as never)).toBe(real);
  });
});
