import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { IdentityError } from "../errors.js";
import { derEncoding, primitiveContent, stringSegments } from "./der-encoding.js";

// RFC 5652 §3, §5.1, §11.1, §11.2.
const SIGNED_DATA = "1.2.840.113549.1.7.2";
const DATA = "1.2.840.113549.1.7.1";
const CONTENT_TYPE = "1.2.840.113549.1.9.3";
const MESSAGE_DIGEST = "1.2.840.113549.1.9.4";

/** One signer of a CMS SignedData, as far as verifying it needs. */
export interface CmsSigner {
  /** DER of the issuer Name and the content octets of the serial number (the signer's `sid`). */
  readonly issuer: Uint8Array;
  readonly serialNumber: Uint8Array;
  readonly digestAlgorithm: string;
  readonly signatureAlgorithm: string;
  /** Present when the signer signed attributes; then `signedBytes` is their DER SET OF. */
  readonly signedAttributes?: {
    readonly contentType: string;
    readonly messageDigest: Uint8Array;
  };
  /** What the signature covers: the DER of the signed attributes, else the content itself. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

/** A CMS SignedData with its content inside, as the identity signature is. */
export interface CmsMessage {
  readonly content: Uint8Array;
  readonly signers: readonly CmsSigner[];
}

/**
 * Reads a BER (or DER) encoded CMS ContentInfo holding SignedData over `id-data` content.
 * Certificates the message carries are not read: only configured ones are trusted.
 */
export function readSignedData(ber: Uint8Array): CmsMessage {
  let signedData: pkijs.SignedData;
  try {
    const decoded = asn1js.fromBER(ber);
    if (decoded.offset === -1 || decoded.offset !== ber.byteLength) {
      throw new IdentityError("malformed", "the signature is not one BER-encoded CMS message");
    }
    const contentInfo = new pkijs.ContentInfo({ schema: decoded.result });
    if (contentInfo.contentType !== SIGNED_DATA) {
      throw new IdentityError("malformed", "the CMS message is not SignedData");
    }
    signedData = new pkijs.SignedData({ schema: contentInfo.content });
  } catch (error) {
    if (error instanceof IdentityError) throw error;
    throw new IdentityError("malformed", "the signature is not a CMS SignedData message", {
      cause: error,
    });
  }
  const encapsulated = signedData.encapContentInfo;
  if (encapsulated.eContentType !== DATA || encapsulated.eContent === undefined) {
    throw new IdentityError("malformed", "the CMS message does not carry its data content");
  }
  if (!isUniversal(encapsulated.eContent, 4)) {
    throw new IdentityError("malformed", "the CMS content is not an OCTET STRING");
  }
  const content = stringSegments(encapsulated.eContent);
  return { content, signers: signedData.signerInfos.map((info) => readSigner(info, content)) };
}

function readSigner(info: pkijs.SignerInfo, content: Uint8Array): CmsSigner {
  if (!(info.sid instanceof pkijs.IssuerAndSerialNumber)) {
    throw new IdentityError("malformed", "the signer is not named by issuer and serial number");
  }
  const base = {
    issuer: derOf(info.sid.issuer.valueBeforeDecode),
    serialNumber: primitiveContent(info.sid.serialNumber),
    digestAlgorithm: info.digestAlgorithm.algorithmId,
    signatureAlgorithm: info.signatureAlgorithm.algorithmId,
    signature: stringSegments(info.signature),
  };
  if (info.signedAttrs === undefined) return { ...base, signedBytes: content };
  const attributes = info.signedAttrs.attributes;
  const contentType = single(attributes, CONTENT_TYPE);
  const messageDigest = single(attributes, MESSAGE_DIGEST);
  if (!(contentType instanceof asn1js.ObjectIdentifier) || !isUniversal(messageDigest, 4)) {
    // RFC 5652 §5.3: signed attributes must hold content-type and message-digest.
    throw new IdentityError(
      "malformed",
      "the signed attributes lack content-type or message-digest",
    );
  }
  return {
    ...base,
    signedAttributes: {
      contentType: contentType.valueBlock.toString(),
      messageDigest: stringSegments(messageDigest),
    },
    // RFC 5652 §5.4: the signature covers the DER SET OF, not the [0] IMPLICIT bytes sent.
    signedBytes: derEncoding(reparse(info.signedAttrs.encodedValue), 0x31),
  };
}

function single(attributes: readonly pkijs.Attribute[], type: string): asn1js.AsnType | undefined {
  const matching = attributes.filter((attribute) => attribute.type === type);
  if (matching.length !== 1 || matching[0]?.values.length !== 1) return undefined;
  return matching[0].values[0] as asn1js.AsnType;
}

function isUniversal(node: asn1js.AsnType | undefined, tagNumber: number): node is asn1js.AsnType {
  return node !== undefined && node.idBlock.tagClass === 1 && node.idBlock.tagNumber === tagNumber;
}

function derOf(encoded: ArrayBuffer): Uint8Array {
  return derEncoding(reparse(encoded));
}

function reparse(encoded: ArrayBuffer): asn1js.AsnType {
  // asn1js reports most errors with offset -1 but throws on some (a malformed time string).
  let decoded: ReturnType<typeof asn1js.fromBER>;
  try {
    decoded = asn1js.fromBER(encoded);
  } catch (error) {
    throw new IdentityError("malformed", "a CMS field does not decode", { cause: error });
  }
  if (decoded.offset === -1) throw new IdentityError("malformed", "a CMS field does not decode");
  return decoded.result;
}
