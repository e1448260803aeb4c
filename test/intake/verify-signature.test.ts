import { describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { SignatureError } from "../../src/errors.js";
import { verifySignature } from "../../src/intake/verify-signature.js";
import { sign } from "../support/fixtures.js";

const body = Buffer.from('{"action":"queued","note":"caf\u00e9"}');
const secrets = [new Secret("new"), new Secret("old")];
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** `body` with one byte that is not UTF-8 inside its string, where "café" was. */
const notUtf8 = (byte: number) =>
  Buffer.concat([Buffer.from('{"action":"queued","note":"caf'), Buffer.from([byte, 0x22, 0x7d])]);

const accepts = (raw: Uint8Array, header: string | undefined) =>
  expect(verifySignature(raw, header, secrets)).resolves.toBeUndefined();
const rejects = (raw: Uint8Array, header: string | undefined) =>
  expect(verifySignature(raw, header, secrets)).rejects.toThrow(SignatureError);

describe("webhook signature", () => {
  it("accepts the signature of any configured secret", async () => {
    await accepts(body, sign(body, "new"));
    await accepts(body, sign(body, "old"));
  });

  it("uses GitHub's documented test vector", async () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    await expect(
      verifySignature(Buffer.from("Hello, World!"), header, [
        new Secret("It's a Secret to Everybody"),
      ]),
    ).resolves.toBeUndefined();
  });

  it.each([
    ["a missing header", undefined],
    ["an empty header", ""],
    ["another algorithm", `sha1=${"0".repeat(40)}`],
    ["a short digest", "sha256=abcd"],
    ["another secret's signature", sign(body, "stranger")],
    ["a signature of other bytes", sign(Buffer.concat([body, Buffer.from(" ")]), "new")],
  ])("rejects %s", async (_, header) => {
    await rejects(body, header);
  });

  it("rejects an empty body, whatever the header", async () => {
    await rejects(Buffer.alloc(0), sign(Buffer.alloc(0), "new"));
  });

  it("rejects a body that is not UTF-8, even signed over its bytes", async () => {
    // Decoded leniently, 0xFF and 0xFE both become U+FFFD: the signature of one body would
    // then verify the other. GitHub sends UTF-8 JSON, so such a body is not GitHub's.
    await rejects(notUtf8(0xff), sign(notUtf8(0xff), "new"));
    await rejects(notUtf8(0xfe), sign(notUtf8(0xff), "new"));
    await rejects(
      notUtf8(0xfe),
      sign(Buffer.from('{"action":"queued","note":"caf\ufffd"}'), "new"),
    );
  });

  it("verifies a leading byte order mark as part of the body, not dropped", async () => {
    const withBom = Buffer.concat([BOM, body]);
    await accepts(withBom, sign(withBom, "new"));
    await rejects(withBom, sign(body, "new"));
    await rejects(body, sign(withBom, "new"));
  });
});
