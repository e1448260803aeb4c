import { describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { type Logger, scrub } from "../../src/log/logger.js";
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

  // Built at run time, like the tokens above.
  const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const jwt = `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ iss: 123, exp: 9 })}.${"Sg9_x-".repeat(40)}`;
  const accessKey = `AKIA${"Q7".repeat(8)}`;
  const sessionKey = `ASIA${"Z3".repeat(8)}`;
  const secretKey = `wJalrXUtnFEMI/K7MDENG/bPxRfiCY${"Kz4".repeat(4)}`;

  it.each([
    ["a JWT, signature and all", `auth ${jwt} end`, "auth [redacted jwt] end"],
    ["an AWS access key ID", `key ${accessKey}.`, "key [redacted aws key]."],
    ["a temporary AWS access key ID", `key ${sessionKey}`, "key [redacted aws key]"],
    ["a 40-character mixed-case base64 secret", `secret=${secretKey}`, "secret=[redacted]"],
  ])("scrubs %s by its shape", (_what, text, scrubbed) => {
    expect(secretKey.length).toBeGreaterThanOrEqual(40);
    expect(scrub(text)).toBe(scrubbed);
  });

  it.each([
    ["a hex digest", `sha ${"0123456789abcdef".repeat(4)}`],
    ["a commit SHA", "head 7f3c2a9e1b4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f"],
    ["an API URL", "GET https://api.github.com/repos/Acme/Widgets/actions/jobs/12345678901"],
    ["an instance ID", "i-0123456789abcdef0 in subnet-0a1b2c3d4e5f67890"],
  ])("leaves %s alone", (_what, text) => {
    expect(scrub(text)).toBe(text);
  });

  it("redacts userData and credentials fields by name", () => {
    const line = logged((logger) =>
      logger.info(
        {
          launch: { userData: "#cloud-config hush", UserData: "hush" },
          credentials: { a: "hush" },
        },
        "launch",
      ),
    );
    expect(line).not.toContain("hush");
    expect(line).toContain('"userData":"[redacted]"');
    expect(line).toContain('"credentials":"[redacted]"');
  });
});

// A JIT config the way GitHub encodes one: base64 of a JSON object holding the runner's
// credentials (src/sim/github/runner-routes.ts makes them the same way).
const jitConfig = (runner: number) =>
  Buffer.from(
    JSON.stringify({ ".runner": runner, ".credentials": `${"c4".repeat(24)}${runner}` }),
  ).toString("base64");

/** Logs one record through a fresh logger and returns its line. */
function logged(write: (logger: Logger) => void): string {
  const { logger, lines } = memoryLogger();
  write(logger);
  return lines();
}

describe("JIT configs are redacted wherever they are logged", () => {
  const J = jitConfig(42);
  // A value no shape recognises: the cases by key name use it, so that they test the
  // redaction by key name alone (the shape would catch a real JIT config anyway).
  const opaque = `jit-${"x9".repeat(12)}`;

  it("the opaque value is one no shape catches, and a real JIT config is one they do", () => {
    expect(scrub(opaque)).toBe(opaque);
    expect(scrub(`config ${J}.`)).toBe("config [redacted].");
  });

  // Each key the JIT config travels under (GitHub's field, ours, and spellings of them), at
  // the top level, at depth 2, 3 and 4, and inside arrays: the pino redact paths cover only
  // depth 2 of two spellings, so the rest rests on the key pattern of the log formatter.
  const placements: [string, (key: string) => Record<string, unknown>][] = [
    ["at the top level", (k) => ({ [k]: opaque })],
    ["at depth 2", (k) => ({ runner: { [k]: opaque } })],
    ["at depth 3", (k) => ({ launch: { runner: { [k]: opaque } } })],
    ["at depth 4", (k) => ({ a: { b: { c: { [k]: opaque } } } })],
    ["in an array", (k) => ({ runners: [{ [k]: opaque }] })],
    ["in arrays at depth 3+", (k) => ({ batch: [{ runners: [{ id: 1, [k]: opaque }] }] })],
  ];
  for (const key of ["encoded_jit_config", "jitConfig", "jit_config", "JITCONFIG"]) {
    it.each(placements)(`{${key}} %s`, (_where, fields) => {
      const line = logged((logger) => logger.info(fields(key), "runner registered"));
      expect(line).not.toContain(opaque);
      expect(line).toContain(`"${key}":"[redacted]"`);
    });

    it(`{${key}} in a child logger's bindings, at the top level, at depth 3 and in a grandchild`, () => {
      const line = logged((logger) => {
        logger
          .child({ [key]: opaque, launch: { runner: { [key]: opaque } } })
          .info("runner registered");
        logger
          .child({ loop: "launcher" })
          .child({ [key]: opaque })
          .info("runner registered");
      });
      expect(line).not.toContain(opaque);
      expect(line).toContain(`"${key}":"[redacted]"`);
      // The grandchild keeps its parent's bindings.
      expect(line).toMatch(/"loop":"launcher",.*"\[redacted\]"/);
    });
  }

  it("in an Error's own fields (as Octokit's RequestError carries its response), deep", () => {
    const error = Object.assign(new Error("HttpError"), {
      response: { status: 500, data: { runner: { id: 42 }, encoded_jit_config: opaque } },
    });
    const line = logged((logger) => {
      logger.warn({ err: error }, "launch failed");
      logger.warn({ failures: [{ err: error }] }, "launches failed");
      logger.warn(error, "launch failed");
    });
    expect(line).not.toContain(opaque);
    expect(line.match(/"encoded_jit_config":"\[redacted\]"/g)).toHaveLength(3);
  });

  // Text names no field: a real JIT config there is caught by its shape (base64 JSON).
  it("in an Error's message", () => {
    const line = logged((logger) =>
      logger.warn(
        { err: new Error(`unexpected answer: {"encoded_jit_config":"${J}"}`) },
        "launch failed",
      ),
    );
    expect(line).not.toContain(J);
    expect(line).toContain("unexpected answer");
  });

  it("in an Error's cause's message, logged as a field and as the first argument", () => {
    const error = new Error("launch failed", { cause: new Error(`runner config ${J} refused`) });
    const line = logged((logger) => {
      logger.warn({ err: error }, "launch failed");
      logger.error(error, "launch failed");
    });
    expect(line).not.toContain(J);
    expect(line).toContain("runner config [redacted] refused");
  });

  it("as a bare value in a message, a string field or a child's bindings", () => {
    const line = logged((logger) => {
      logger.info({ note: `config ${J}` }, "runner registered");
      logger.info(`runner config ${J}`);
      logger.child({ note: `config ${J}` }).info("runner registered");
    });
    expect(line).not.toContain(J);
  });
});
