import { randomBytes, webcrypto } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/** A TLS key and certificate, PEM-encoded. */
export interface TlsIdentity {
  readonly key: string;
  readonly cert: string;
}

const COMMON_NAME = "2.5.4.3";
const SUBJECT_ALT_NAME = "2.5.29.17";
const DAY_MS = 86_400_000;

function pem(label: string, der: ArrayBuffer): string {
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * A key and a self-signed certificate made at start, for the hop from the load balancer to
 * the controller: an ALB encrypts to an HTTPS target without checking its certificate, so
 * the traffic inside the VPC is encrypted without a certificate to issue or rotate.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-register-targets.html
 * ECDSA P-256 with SHA-256; valid a year from an hour ago (the process restarts sooner).
 */
export async function selfSignedCertificate(
  hostnames: readonly string[] = ["localhost"],
  now: Date = new Date(),
): Promise<TlsIdentity> {
  const engine = new pkijs.CryptoEngine({
    name: "node",
    crypto: webcrypto as ConstructorParameters<typeof pkijs.CryptoEngine>[0]["crypto"],
  });
  const { subtle } = webcrypto;
  const keys = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // positive
  certificate.serialNumber = new asn1js.Integer({ valueHex: serial });
  const name = new pkijs.AttributeTypeAndValue({
    type: COMMON_NAME,
    value: new asn1js.Utf8String({ value: hostnames[0] ?? "localhost" }),
  });
  certificate.subject.typesAndValues.push(name);
  certificate.issuer.typesAndValues.push(name);
  certificate.notBefore.value = new Date(now.getTime() - DAY_MS / 24);
  certificate.notAfter.value = new Date(now.getTime() + 365 * DAY_MS);
  certificate.extensions = [
    new pkijs.Extension({
      extnID: SUBJECT_ALT_NAME,
      critical: false,
      extnValue: new pkijs.GeneralNames({
        names: hostnames.map((value) => new pkijs.GeneralName({ type: 2, value })),
      })
        .toSchema()
        .toBER(false),
    }),
  ];
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  await certificate.sign(keys.privateKey, "SHA-256", engine);
  return {
    key: pem("PRIVATE KEY", await subtle.exportKey("pkcs8", keys.privateKey)),
    cert: pem("CERTIFICATE", certificate.toSchema().toBER(false)),
  };
}
