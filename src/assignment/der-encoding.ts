import type * as asn1js from "asn1js";
import { IdentityError } from "../errors.js";

// X.690 universal tags whose BER form may be constructed (segments to concatenate) and whose
// DER form is always primitive: OCTET STRING and the character and time string types.
const STRING_TAGS = new Set([4, 12, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
const UNIVERSAL = 1;
const SET_OF = 0x31;

/**
 * The DER encoding of a decoded BER element: definite minimal lengths, constructed strings
 * made primitive, SET OF members sorted (X.690 §10, §11.6). CMS signs the DER encoding of
 * the signed attributes whatever encoding the message carries (RFC 5652 §5.4); `tag`
 * replaces the outer identifier octet (the IMPLICIT [0] becomes SET).
 */
export function derEncoding(node: asn1js.AsnType, tag?: number): Uint8Array {
  const id = node.idBlock;
  if (id.tagNumber > 30) throw new IdentityError("malformed", "high tag numbers are not expected");
  const header = tag ?? ((id.tagClass - 1) << 6) | (id.isConstructed ? 0x20 : 0) | id.tagNumber;
  if (!id.isConstructed) return tlv(header, primitiveContent(node));
  if (id.tagClass === UNIVERSAL && STRING_TAGS.has(id.tagNumber)) {
    return tlv(header & ~0x20, stringSegments(node));
  }
  const children = members(node).map((child) => derEncoding(child));
  if (header === SET_OF) children.sort(compareDer);
  return tlv(header, Buffer.concat(children));
}

/** The content octets of a decoded primitive element, as they were on the wire. */
export function primitiveContent(node: asn1js.AsnType): Uint8Array {
  const headerLength = node.idBlock.blockLength + node.lenBlock.blockLength;
  return node.valueBeforeDecodeView.subarray(headerLength);
}

/** The octets of a string element, whether BER sent it primitive or in segments. */
export function stringSegments(node: asn1js.AsnType): Uint8Array {
  if (!node.idBlock.isConstructed) return primitiveContent(node);
  return Buffer.concat(
    members(node).map((segment) => {
      if (
        segment.idBlock.tagClass !== UNIVERSAL ||
        segment.idBlock.tagNumber !== node.idBlock.tagNumber
      ) {
        throw new IdentityError("malformed", "a string segment has another type");
      }
      return stringSegments(segment);
    }),
  );
}

function members(node: asn1js.AsnType): asn1js.AsnType[] {
  const value = (node.valueBlock as { value?: unknown }).value;
  if (!Array.isArray(value))
    throw new IdentityError("malformed", "a constructed element has no members");
  return value as asn1js.AsnType[];
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  return Buffer.concat([Uint8Array.of(tag), derLength(content.length), content]);
}

/** A DER length: short form below 128, else the fewest octets. */
export function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

// X.690 §11.6: encodings compared as octet strings, the shorter padded with zero octets.
function compareDer(a: Uint8Array, b: Uint8Array): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
