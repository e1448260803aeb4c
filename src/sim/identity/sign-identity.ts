import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/** How the test certificate is made. */
export interface IdentitySignerOptions {
  /** The certificate's common name (issuer and subject: it is self-signed). */
  readonly commonName?: string;
  /** The serial number (positive, big-endian); random by default. */
  readonly serialNumber?: Uint8Array;
}

/** Variations on one signature, for tests of what a verifier must refuse or accept. */
export interface SignOptions {
  readonly signingTime?: Date;
  /** Sign with this key while naming the certificate: a forgery. */
  readonly signingKey?: KeyObject;
  /** Carry the signer's own certificate in the message (AWS's never does). */
  readonly carryCertificate?: boolean;
  /**
   * How the signed attributes are sent; the signature always covers their DER (sorted SET OF).
   * "indefinite": BER with an indefinite length; "indefinite-unsorted": also in another order.
   */
  readonly signedAttributesEncoding?: "der" | "indefinite" | "indefinite-unsorted";
}

/** A test stand-in for AWS's per-Region identity signing key and its certificate. */
export interface IdentitySigner {
  readonly certificatePem: string;
  /** The test key (never a real secret), for tests that sign with an independent tool. */
  readonly privateKeyPem: string;
  readonly serialNumber: Uint8Array;
  /** The document's `/instance-identity/rsa2048` signature, shaped as IMDS serves it. */
  sign(document: string, options?: SignOptions): string;
}

const OID = {
  signedData: "1.2.840.113549.1.7.2",
  data: "1.2.840.113549.1.7.1",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  algorithmProtection: "1.2.840.113549.1.9.52",
};

/**
 * Makes an RSA-2048 key and a self-signed certificate, and signs documents the way EC2's
 * IMDS serves `/rsa2048`: a BER CMS SignedData with indefinite lengths, the document inside,
 * signed attributes (content-type, signing-time, CMS algorithm protection, message-digest),
 * no certificate, base64 wrapped at 76 columns.
 */
export function createIdentitySigner(options: IdentitySignerOptions = {}): IdentitySigner {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const serialNumber = options.serialNumber ?? positive(randomBytes(9));
  const certificate = selfSigned(
    options.commonName ?? "mayfly test EC2 identity",
    serialNumber,
    privateKey,
    publicKey,
  );
  const certificateDer = new Uint8Array(certificate.toSchema(true).toBER(false));
  const issuerAndSerial = definite(
    0x30,
    ber(certificate.issuer.toSchema()),
    ber(new asn1js.Integer({ valueHex: serialNumber })),
  );
  return {
    certificatePem: pem("CERTIFICATE", certificateDer),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    serialNumber,
    sign(document, signOptions = {}) {
      const content = Buffer.from(document, "utf8");
      const attributes = signedAttributes(content, signOptions.signingTime ?? new Date());
      const sortedDer = [...attributes].sort(Buffer.compare);
      const signature = sign(
        "sha256",
        definite(0x31, ...sortedDer),
        signOptions.signingKey ?? privateKey,
      );
      const encoding = signOptions.signedAttributesEncoding ?? "der";
      const signedAttrs =
        encoding === "der"
          ? definite(0xa0, ...sortedDer)
          : indefinite(0xa0, ...(encoding === "indefinite" ? sortedDer : [...sortedDer].reverse()));
      const signerInfo = definite(
        0x30,
        ber(new asn1js.Integer({ value: 1 })),
        issuerAndSerial,
        algorithm(OID.sha256),
        signedAttrs,
        algorithm(OID.sha256WithRsa),
        definite(0x04, signature),
      );
      const message = indefinite(
        0x30,
        oid(OID.signedData),
        indefinite(
          0xa0,
          indefinite(
            0x30,
            ber(new asn1js.Integer({ value: 1 })),
            definite(0x31, algorithm(OID.sha256)),
            indefinite(
              0x30,
              oid(OID.data),
              indefinite(0xa0, indefinite(0x24, definite(0x04, content))),
            ),
            ...(signOptions.carryCertificate ? [definite(0xa0, certificateDer)] : []),
            definite(0x31, signerInfo),
          ),
        ),
      );
      return wrap(Buffer.from(message).toString("base64"));
    },
  };
}

function signedAttributes(content: Buffer, signingTime: Date): Buffer[] {
  const attribute = (type: string, value: Uint8Array) =>
    definite(0x30, oid(type), definite(0x31, value));
  return [
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.signingTime, ber(new asn1js.UTCTime({ valueDate: signingTime }))),
    // RFC 6211, as AWS's signatures carry it: digest and signature algorithm, signed.
    attribute(
      OID.algorithmProtection,
      definite(
        0x30,
        algorithm(OID.sha256),
        definite(0xa1, oid(OID.sha256WithRsa), Uint8Array.of(5, 0)),
      ),
    ),
    attribute(OID.messageDigest, definite(0x04, createHash("sha256").update(content).digest())),
  ];
}

function selfSigned(
  commonName: string,
  serialNumber: Uint8Array,
  privateKey: KeyObject,
  publicKey: KeyObject,
): pkijs.Certificate {
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = new asn1js.Integer({ valueHex: serialNumber });
  // One attribute per RDN, as AWS's certificates name their issuer.
  const name = definite(
    0x30,
    ...[
      ["2.5.4.6", new asn1js.PrintableString({ value: "US" })],
      ["2.5.4.8", new asn1js.PrintableString({ value: "Washington State" })],
      ["2.5.4.7", new asn1js.PrintableString({ value: "Seattle" })],
      ["2.5.4.10", new asn1js.PrintableString({ value: "mayfly test" })],
      ["2.5.4.3", new asn1js.Utf8String({ value: commonName })],
    ].map(([type, value]) =>
      definite(0x31, definite(0x30, oid(type as string), ber(value as asn1js.BaseBlock))),
    ),
  );
  certificate.issuer = new pkijs.RelativeDistinguishedNames({
    schema: asn1js.fromBER(name).result,
  });
  certificate.subject = new pkijs.RelativeDistinguishedNames({
    schema: asn1js.fromBER(name).result,
  });
  certificate.notBefore = new pkijs.Time({ type: 0, value: new Date(Date.UTC(2020, 0, 1)) });
  certificate.notAfter = new pkijs.Time({ type: 0, value: new Date(Date.UTC(2049, 11, 31)) });
  const spki = publicKey.export({ type: "spki", format: "der" });
  certificate.subjectPublicKeyInfo = new pkijs.PublicKeyInfo({
    schema: asn1js.fromBER(new Uint8Array(spki)).result,
  });
  certificate.extensions = [
    new pkijs.Extension({
      extnID: "2.5.29.19", // basicConstraints: a CA, as AWS's certificates are
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: true, pathLenConstraint: 0 })
        .toSchema()
        .toBER(false),
    }),
    new pkijs.Extension({
      extnID: "2.5.29.15", // keyUsage: digitalSignature and keyCertSign
      critical: false,
      extnValue: new asn1js.BitString({ valueHex: Uint8Array.of(0x84), unusedBits: 2 }).toBER(
        false,
      ),
    }),
  ];
  const rsaSha256 = () =>
    new pkijs.AlgorithmIdentifier({
      algorithmId: OID.sha256WithRsa,
      algorithmParams: new asn1js.Null(),
    });
  certificate.signature = rsaSha256();
  certificate.signatureAlgorithm = rsaSha256();
  const tbs = new Uint8Array(certificate.encodeTBS().toBER(false));
  certificate.signatureValue = new asn1js.BitString({ valueHex: sign("sha256", tbs, privateKey) });
  return certificate;
}

function algorithm(id: string): Buffer {
  return definite(0x30, oid(id), Uint8Array.of(5, 0));
}

function oid(value: string): Uint8Array {
  return ber(new asn1js.ObjectIdentifier({ value }));
}

function ber(node: { toBER(sizeOnly?: boolean): ArrayBuffer }): Uint8Array {
  return new Uint8Array(node.toBER(false));
}

function definite(tag: number, ...parts: Uint8Array[]): Buffer {
  const content = Buffer.concat(parts);
  return Buffer.concat([Uint8Array.of(tag), lengthOctets(content.length), content]);
}

function indefinite(tag: number, ...parts: Uint8Array[]): Buffer {
  return Buffer.concat([Uint8Array.of(tag, 0x80), ...parts, Uint8Array.of(0, 0)]);
}

function lengthOctets(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest >>>= 8) octets.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

function positive(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[0] = ((copy[0] ?? 0) & 0x7f) | 0x01;
  return copy;
}

function pem(label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${wrap(Buffer.from(der).toString("base64"), 64)}\n-----END ${label}-----\n`;
}

function wrap(base64: string, width = 76): string {
  return base64.match(new RegExp(`.{1,${width}}`, "g"))?.join("\n") ?? "";
}
