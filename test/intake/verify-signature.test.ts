import { describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { SignatureError } from "../../src/errors.js";
import { verifySignature } from "../../src/intake/verify-signature.js";
import { sign } from "../support/fixtures.js";

const body = Buffer.from('{"action":"queued","note":"caf\u00e9"}');
const secrets = [new Secret("new"), new Secret("old")];

describe("webhook signature", () => {
  it("accepts the signature of any configured secret", () => {
    expect(() => verifySignature(body, sign(body, "new"), secrets)).not.toThrow();
    expect(() => verifySignature(body, sign(body, "old"), secrets)).not.toThrow();
  });

  it("uses GitHub's documented test vector", () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    expect(() =>
      verifySignature(Buffer.from("Hello, World!"), header, [
        new Secret("It's a Secret to Everybody"),
      ]),
    ).not.toThrow();
  });

  it.each([
    ["a missing header", undefined],
    ["an empty header", ""],
    ["another algorithm", `sha1=${"0".repeat(40)}`],
    ["a short digest", "sha256=abcd"],
    ["another secret's signature", sign(body, "stranger")],
    ["a signature of other bytes", sign(Buffer.concat([body, Buffer.from(" ")]), "new")],
  ])("rejects %s", (_, header) => {
    expect(() => verifySignature(body, header, secrets)).toThrow(SignatureError);
  });
});
