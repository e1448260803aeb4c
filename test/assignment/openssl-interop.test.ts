import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createIdentityVerifier } from "../../src/assignment/create-identity-verifier.js";
import type { IdentityVerifier } from "../../src/assignment/identity-verifier.js";
import { trustCertificate } from "../../src/assignment/trusted-certificate.js";
import { renderIdentityDocument } from "../../src/sim/identity/render-identity-document.js";
import { createIdentitySigner, type IdentitySigner } from "../../src/sim/identity/sign-identity.js";
import { needTool } from "../support/need-tool.js";

// OpenSSL is an independent CMS implementation: it must accept what the simulated EC2 signs,
// and what it signs in streaming (BER) form must pass mayfly's verifier.
const skip = !needTool({
  tool: "openssl",
  found: spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0,
  suite: "the OpenSSL interoperability tests (test/assignment/openssl-interop.test.ts)",
  install: "apt-get install openssl",
});

const document = renderIdentityDocument({
  accountId: "123456789012",
  architecture: "x86_64",
  availabilityZone: "eu-west-1b",
  imageId: "ami-0123456789abcdef0",
  instanceId: "i-0123456789abcdef0",
  instanceType: "c7i.large",
  pendingTime: "2026-12-02T22:00:00Z",
  region: "eu-west-1",
});

let dir: string;
let trusted: IdentitySigner;
let verifier: IdentityVerifier;
const file = (name: string) => join(dir, name);

function openssl(args: string[]): { status: number | null; stderr: string } {
  const run = spawnSync("openssl", args, { encoding: "utf8" });
  return { status: run.status, stderr: run.stderr };
}

/** OpenSSL's streaming signature of the document, base64 wrapped at 76 as IMDS serves it. */
function opensslSign(signer: IdentitySigner, extra: string[] = []): string {
  writeFileSync(file("signer.pem"), signer.certificatePem);
  writeFileSync(file("signer.key"), signer.privateKeyPem);
  writeFileSync(file("document"), document);
  execFileSync("openssl", [
    ...["cms", "-sign", "-binary", "-stream", "-nodetach", "-md", "sha256"],
    ...["-signer", file("signer.pem"), "-inkey", file("signer.key")],
    ...["-in", file("document"), "-outform", "DER", "-out", file("signed.der"), ...extra],
  ]);
  const ber = readFileSync(file("signed.der"));
  return (ber.toString("base64").match(/.{1,76}/g) ?? []).join("\n");
}

/** `openssl cms -verify -nointern`: trusts only the certificate given, never the message's. */
function opensslVerifies(signature: string, certificatePem: string): boolean {
  writeFileSync(file("trusted.pem"), certificatePem);
  writeFileSync(file("message.der"), Buffer.from(signature, "base64"));
  const verified = openssl([
    ...["cms", "-verify", "-inform", "DER", "-in", file("message.der"), "-binary"],
    ...["-nointern", "-certfile", file("trusted.pem"), "-CAfile", file("trusted.pem")],
    ...["-out", file("content")],
  ]);
  return verified.status === 0 && readFileSync(file("content"), "utf8") === document;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mayfly-openssl-"));
  trusted = createIdentitySigner();
  verifier = createIdentityVerifier([trustCertificate(trusted.certificatePem, { name: "test" })]);
});

describe.skipIf(skip)("identity signatures against OpenSSL", () => {
  it("OpenSSL verifies what the simulated EC2 signs, trusting only the given certificate", () => {
    expect(opensslVerifies(trusted.sign(document), trusted.certificatePem)).toBe(true);
    const other = createIdentitySigner();
    expect(opensslVerifies(trusted.sign(document), other.certificatePem)).toBe(false);
  });

  it("OpenSSL, like mayfly, verifies over the DER of signed attributes sent in BER", () => {
    const signature = trusted.sign(document, { signedAttributesEncoding: "indefinite" });
    expect(opensslVerifies(signature, trusted.certificatePem)).toBe(true);
    expect(verifier.verifyIdentity(document, signature).ok).toBe(true);
  });

  it("mayfly verifies OpenSSL's streaming (BER, indefinite length) signature", () => {
    const signature = opensslSign(trusted, ["-nocerts"]);
    expect([...Buffer.from(signature, "base64").subarray(0, 2)]).toEqual([0x30, 0x80]);
    expect(verifier.verifyIdentity(document, signature)).toMatchObject({
      ok: true,
      identity: { instanceId: "i-0123456789abcdef0", region: "eu-west-1" },
    });
    const joined = signature.replace(/\n/g, "");
    expect(verifier.verifyIdentity(document, joined).ok).toBe(true);
  });

  it("refuses a message signed by a key whose certificate it carries, which AWS's documented command accepts", () => {
    const stranger = createIdentitySigner();
    const signature = opensslSign(stranger); // carries the stranger's certificate
    writeFileSync(file("message.der"), Buffer.from(signature, "base64"));
    writeFileSync(file("aws.pem"), trusted.certificatePem);
    // The EC2 User Guide's `-certfile ... -noverify` without -nointern trusts the message's own
    // certificate: this is the trap the assignment endpoint must not fall into.
    const documented = openssl([
      ...["cms", "-verify", "-inform", "DER", "-in", file("message.der"), "-binary"],
      ...["-certfile", file("aws.pem"), "-noverify", "-out", file("content")],
    ]);
    expect(documented.status).toBe(0);
    expect(verifier.verifyIdentity(document, signature)).toMatchObject({
      ok: false,
      error: { reason: "untrusted-signer" },
    });
  });
});
