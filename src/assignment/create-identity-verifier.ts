import { constants, createHash, verify } from "node:crypto";
import { IdentityError } from "../errors.js";
import { decodeSignature } from "./decode-signature.js";
import { parseIdentityDocument } from "./identity-document.js";
import type { IdentityCheck, IdentityVerifier } from "./identity-verifier.js";
import { type CmsSigner, readSignedData } from "./read-signed-data.js";
import type { TrustedCertificate } from "./trusted-certificate.js";

const DATA = "1.2.840.113549.1.7.1";
// RFC 5754 §2, §3.2: the SHA-2 digests, and RSA named alone or with its digest.
const DIGESTS: Record<string, string> = {
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
const RSA_SIGNATURES: Record<string, string | undefined> = {
  "1.2.840.113549.1.1.1": undefined,
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};

/**
 * The identity verifier over CMS SignedData (the `/rsa2048` signature): trusts only
 * `trusted`, never a certificate the message carries (`openssl cms -verify -nointern`).
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/verify-rsa2048.html
 */
export function createIdentityVerifier(trusted: readonly TrustedCertificate[]): IdentityVerifier {
  return {
    verifyIdentity(document: string, signature: string): IdentityCheck {
      try {
        return { ok: true, identity: check(trusted, document, signature) };
      } catch (error) {
        if (error instanceof IdentityError) return { ok: false, error };
        throw error;
      }
    },
  };
}

function check(trusted: readonly TrustedCertificate[], document: string, signature: string) {
  const message = readSignedData(decodeSignature(signature));
  const [signer, ...others] = message.signers;
  if (signer === undefined || others.length > 0) {
    throw new IdentityError("malformed", "the CMS message must have exactly one signer");
  }
  const certificate = verifySigner(trusted, signer, message.content);
  // The signed bytes are the document; compare before reading any JSON, never re-serialised.
  if (!Buffer.from(document, "utf8").equals(message.content)) {
    throw new IdentityError("content-mismatch", "the document differs from the signed content");
  }
  const identity = parseIdentityDocument(document);
  if (certificate.region !== undefined && certificate.region !== identity.region) {
    throw new IdentityError(
      "wrong-region",
      `a document of region ${identity.region} is signed by the certificate of ${certificate.name}`,
    );
  }
  return identity;
}

function verifySigner(
  trusted: readonly TrustedCertificate[],
  signer: CmsSigner,
  content: Uint8Array,
): TrustedCertificate {
  const hash = DIGESTS[signer.digestAlgorithm];
  if (hash === undefined) {
    throw new IdentityError("malformed", `unsupported digest algorithm ${signer.digestAlgorithm}`);
  }
  if (!(signer.signatureAlgorithm in RSA_SIGNATURES)) {
    throw new IdentityError(
      "malformed",
      `unsupported signature algorithm ${signer.signatureAlgorithm}`,
    );
  }
  const namedHash = RSA_SIGNATURES[signer.signatureAlgorithm];
  if (namedHash !== undefined && namedHash !== hash) {
    throw new IdentityError("malformed", "the signature and digest algorithms disagree");
  }
  const attributes = signer.signedAttributes;
  if (attributes !== undefined) {
    if (attributes.contentType !== DATA) {
      throw new IdentityError("malformed", "the content-type attribute is not id-data");
    }
    const digest = createHash(hash).update(content).digest();
    if (!digest.equals(attributes.messageDigest)) {
      throw new IdentityError(
        "bad-signature",
        "the message-digest attribute does not match the content",
      );
    }
  }
  const candidates = trusted.filter(
    (certificate) =>
      Buffer.from(certificate.issuer).equals(signer.issuer) &&
      Buffer.from(certificate.serialNumber).equals(signer.serialNumber),
  );
  if (candidates.length === 0) {
    throw new IdentityError("untrusted-signer", "the signer is none of the trusted certificates");
  }
  const verified = candidates.find((certificate) =>
    verify(
      hash,
      signer.signedBytes,
      { key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING },
      signer.signature,
    ),
  );
  if (verified === undefined) {
    throw new IdentityError(
      "bad-signature",
      "the signature does not verify with the trusted certificate",
    );
  }
  return verified;
}
