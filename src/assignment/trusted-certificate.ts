import { type KeyObject, X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { derEncoding, primitiveContent } from "./der-encoding.js";

/** A certificate whose key may sign identity documents, with what a signer's `sid` names. */
export interface TrustedCertificate {
  /** For logs and errors: "aws/us-east-1", or the file and position it came from. */
  readonly name: string;
  /** AWS signs a Region's documents with that Region's key; absent for a configured file. */
  readonly region?: string;
  readonly issuer: Uint8Array;
  readonly serialNumber: Uint8Array;
  readonly publicKey: KeyObject;
}

/** Reads one PEM certificate into what the verifier compares and verifies with. */
export function trustCertificate(
  pem: string,
  label: { readonly name: string; readonly region?: string },
): TrustedCertificate {
  const x509 = new X509Certificate(pem);
  const decoded = asn1js.fromBER(new Uint8Array(x509.raw));
  if (decoded.offset === -1) throw new Error(`${label.name}: the certificate does not decode`);
  const certificate = new pkijs.Certificate({ schema: decoded.result });
  const issuer = asn1js.fromBER(certificate.issuer.valueBeforeDecode).result;
  return {
    ...label,
    issuer: derEncoding(issuer),
    serialNumber: primitiveContent(certificate.serialNumber),
    publicKey: x509.publicKey,
  };
}
