import { describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { scrub } from "../../src/log/logger.js";
import { memoryLogger } from "../support/fixtures.js";

// Token-shaped values built at run time, so no credential-like literal sits in the source.
const installationToken = `ghs_${"a1".repeat(16)}`;
const personalToken = `ghp_${"B2".repeat(16)}`;

describe("logs", () => {
  it("are JSON lines with a constant message and bound fields", () => {
    const { logger, lines } = memoryLogger();
    logger.child({ loop: "intake" }).info({ jobId: 42 }, "job recorded");
    expect(JSON.parse(lines())).toMatchObject({
      msg: "job recorded",
      jobId: 42,
      loop: "intake",
      service: "mayfly",
    });
  });

  it("redact secret fields by name, secret-shaped values anywhere, and Secret values", () => {
    const { logger, lines } = memoryLogger();
    logger.info(
      {
        token: installationToken,
        request: { headers: { authorization: "Bearer xyz-hush" }, encoded_jit_config: "jit-hush" },
        note: `token ${personalToken} in text`,
        url: "postgres://mayfly:pw-hush@db:5432/mayfly",
        key: "-----BEGIN PRIVATE KEY-----\nMIIhush\n-----END PRIVATE KEY-----",
        secret: new Secret("secret-hush"),
        held: new Secret("held-hush"),
      },
      `context ${installationToken}`,
    );
    logger.error({ err: new Error("failed at postgres://u:err-hush@h/d") }, "failed");
    const text = lines();
    expect(text).not.toMatch(/hush|ghs_|ghp_|MIIhush/);
    expect(text).toContain("[redacted");
    expect(text).toContain("postgres://mayfly:[redacted]@db:5432/mayfly");
  });

  it("scrubs webhook signatures", () => {
    expect(scrub(`sha256=${"a".repeat(64)}`)).toBe("sha256=[redacted]");
  });
});
