import { IdentityError } from "../errors.js";

// IMDS serves /latest/dynamic/instance-identity/rsa2048 as base64 wrapped at 76 columns; a
// VM may also send it joined on one line. Whitespace goes, anything else outside the
// alphabet is refused (Buffer.from(..., "base64") would silently skip it).
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The signature's bytes from its base64 text, wrapped or not. */
export function decodeSignature(signature: string): Uint8Array {
  const text = signature.replace(/[\r\n\t ]+/g, "");
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new IdentityError("malformed", "the signature is not base64");
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}
