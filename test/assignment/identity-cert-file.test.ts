import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createIdentityVerifier } from "../../src/assignment/create-identity-verifier.js";
import { trustedIdentityCertificates } from "../../src/assignment/trusted-identity-certificates.js";
import { readSettings } from "../../src/config/settings.js";
import { ConfigError } from "../../src/errors.js";
import { renderIdentityDocument } from "../../src/sim/identity/render-identity-document.js";
import { createIdentitySigner, type IdentitySigner } from "../../src/sim/identity/sign-identity.js";

const ENV = { GITHUB_WEBHOOK_SECRET: "s" };
const document = renderIdentityDocument({
  accountId: "123456789012",
  region: "us-east-1",
  instanceId: "i-0123456789abcdef0",
  pendingTime: "2026-12-02T22:00:00Z",
});

let signers: IdentitySigner[];
let dir: string;

function certFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problems(env: Record<string, string>): string[] {
  try {
    readSettings({ ...ENV, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ConfigError");
}

beforeAll(() => {
  signers = [createIdentitySigner(), createIdentitySigner(), createIdentitySigner()];
  dir = mkdtempSync(join(tmpdir(), "mayfly-identity-"));
});

describe("MAYFLY_EC2_IDENTITY_CERT_FILE", () => {
  it("replaces AWS's certificates with every certificate of the file", () => {
    const [first, second, third] = signers as [IdentitySigner, IdentitySigner, IdentitySigner];
    const path = certFile("two.pem", `${first.certificatePem}\n${second.certificatePem}`);
    const settings = readSettings({ ...ENV, MAYFLY_EC2_IDENTITY_CERT_FILE: path });
    expect(settings.ec2IdentityCertificates).toHaveLength(2);
    const verifier = createIdentityVerifier(trustedIdentityCertificates(settings));
    expect(verifier.verifyIdentity(document, first.sign(document)).ok).toBe(true);
    expect(verifier.verifyIdentity(document, second.sign(document)).ok).toBe(true);
    expect(verifier.verifyIdentity(document, third.sign(document))).toMatchObject({
      ok: false,
      error: { reason: "untrusted-signer" },
    });
  });

  it("leaves AWS's certificates in force when unset", () => {
    const settings = readSettings(ENV);
    expect(settings.ec2IdentityCertificates).toBeUndefined();
    const trusted = trustedIdentityCertificates(settings);
    expect(trusted.find((certificate) => certificate.region === "us-east-1")?.name).toBe(
      "aws/us-east-1",
    );
    const signer = signers[0] as IdentitySigner;
    expect(createIdentityVerifier(trusted).verifyIdentity(document, signer.sign(document)).ok).toBe(
      false,
    );
  });

  it("names the problem of a file that cannot serve, never echoing a key in it", () => {
    const signer = signers[0] as IdentitySigner;
    expect(problems({ MAYFLY_EC2_IDENTITY_CERT_FILE: join(dir, "missing.pem") })).toEqual([
      `MAYFLY_EC2_IDENTITY_CERT_FILE: cannot read ${join(dir, "missing.pem")} (ENOENT)`,
    ]);
    const empty = certFile("empty.pem", "nothing here\n");
    expect(problems({ MAYFLY_EC2_IDENTITY_CERT_FILE: empty })).toEqual([
      `MAYFLY_EC2_IDENTITY_CERT_FILE: ${empty} holds no PEM certificate`,
    ]);
    const withKey = certFile("key.pem", `${signer.certificatePem}${signer.privateKeyPem}`);
    const found = problems({ MAYFLY_EC2_IDENTITY_CERT_FILE: withKey });
    expect(found).toEqual([
      `MAYFLY_EC2_IDENTITY_CERT_FILE: ${withKey}, block 2 is a PRIVATE KEY, not a CERTIFICATE`,
    ]);
    expect(found.join("\n")).not.toContain(signer.privateKeyPem.split("\n")[1]);
    const broken = certFile(
      "broken.pem",
      "-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n",
    );
    expect(problems({ MAYFLY_EC2_IDENTITY_CERT_FILE: broken })).toEqual([
      `MAYFLY_EC2_IDENTITY_CERT_FILE: ${broken}, block 1 is not a valid X.509 certificate`,
    ]);
  });
});
