import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { readDatabaseSettings, readSettings } from "../../src/config/settings.js";
import { ConfigError } from "../../src/errors.js";

const PEM =
  "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n";

function problems(env: Record<string, string>): string[] {
  try {
    readSettings(env, () => {
      throw Object.assign(new Error("nope"), { code: "ENOENT" });
    });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("settings from the environment", () => {
  it("reads secrets for rotation and safe defaults", () => {
    const settings = readSettings({ GITHUB_WEBHOOK_SECRET: "new-secret, old-secret" });
    expect(settings.webhookSecrets.map((s) => s.reveal())).toEqual(["new-secret", "old-secret"]);
    expect(settings).toMatchObject({
      githubApiUrl: "https://api.github.com",
      host: "127.0.0.1",
      port: 8080,
      logLevel: "info",
    });
    expect(settings.webhookBodyLimitBytes).toBe(1024 * 1024);
    expect(settings.databaseUrl).toBeUndefined();
  });

  it("names every missing or malformed variable at once", () => {
    expect(
      problems({
        GITHUB_APP_ID: "abc",
        MAYFLY_PORT: "http",
        LOG_LEVEL: "loud",
        GITHUB_API_URL: "ftp://x",
      }),
    ).toEqual([
      expect.stringMatching(/^GITHUB_WEBHOOK_SECRET: required/),
      'GITHUB_APP_ID: expected a number, got "abc"',
      expect.stringMatching(/^GITHUB_APP_PRIVATE_KEY: required when GITHUB_APP_ID is set/),
      'GITHUB_API_URL: expected an https URL (http only to this machine), got "ftp://x"',
      expect.stringMatching(/^LOG_LEVEL: expected one of/),
      'MAYFLY_PORT: expected a whole number from 0 to 65535, got "http"',
    ]);
  });

  it("reads the App key inline (with escaped newlines) or from a file", () => {
    const inline = readSettings({
      GITHUB_WEBHOOK_SECRET: "s",
      GITHUB_APP_ID: "12",
      GITHUB_APP_PRIVATE_KEY: PEM.replace(/\n/g, "\\n"),
    });
    expect(inline.githubApp?.appId).toBe(12);
    expect(inline.githubApp?.privateKey.reveal()).toBe(PEM);
    const fromFile = readSettings(
      { GITHUB_WEBHOOK_SECRET: "s", GITHUB_APP_ID: "12", GITHUB_APP_PRIVATE_KEY_FILE: "/k.pem" },
      () => PEM,
    );
    expect(fromFile.githubApp?.privateKey.reveal()).toBe(PEM);
  });

  it("says which key variable is wrong without printing the key", () => {
    const found = problems({
      GITHUB_WEBHOOK_SECRET: "s",
      GITHUB_APP_ID: "1",
      GITHUB_APP_PRIVATE_KEY: "hunter2",
    });
    expect(found).toEqual(["GITHUB_APP_PRIVATE_KEY: not a PEM private key"]);
    expect(
      problems({
        GITHUB_WEBHOOK_SECRET: "s",
        GITHUB_APP_ID: "1",
        GITHUB_APP_PRIVATE_KEY_FILE: "/nope.pem",
      }),
    ).toEqual(["GITHUB_APP_PRIVATE_KEY_FILE: cannot read /nope.pem (ENOENT)"]);
  });

  it("never prints a secret: not in errors, JSON or inspection", () => {
    const settings = readSettings({
      GITHUB_WEBHOOK_SECRET: "webhook-hush",
      GITHUB_APP_ID: "1",
      GITHUB_APP_PRIVATE_KEY: PEM,
      DATABASE_URL: "postgres://u:db-hush@h/d",
      MAYFLY_ADMIN_TOKEN: `admin-hush-${"0".repeat(32)}`,
    });
    for (const text of [
      JSON.stringify(settings),
      inspect(settings, { depth: 5 }),
      `${settings.adminToken}`,
    ]) {
      expect(text).not.toMatch(/hush|PRIVATE KEY/);
    }
    const [problem] = problems({
      GITHUB_WEBHOOK_SECRET: "s",
      DATABASE_URL: "mysql://u:db-hush@h/d",
    });
    expect(problem).toBe("DATABASE_URL: expected a postgres:// or postgresql:// URL");
    // A token refused for its length is not named in the refusal.
    expect(problems({ GITHUB_WEBHOOK_SECRET: "s", MAYFLY_ADMIN_TOKEN: "admin-hush" })).toEqual([
      "MAYFLY_ADMIN_TOKEN: expected at least 32 bytes (openssl rand -hex 32 makes one), got 10",
    ]);
    expect(
      readSettings({ GITHUB_WEBHOOK_SECRET: "s", MAYFLY_ADMIN_TOKEN: "k".repeat(32) }).adminToken,
    ).toBeDefined();
  });

  it("serves HTTPS with a certificate made at start, or one from files, and names a wrong setting", () => {
    const base = { GITHUB_WEBHOOK_SECRET: "s" };
    expect(readSettings({ ...base, MAYFLY_TLS: "self-signed" }).tls).toEqual({
      kind: "self-signed",
    });
    expect(readSettings(base).tls).toBeUndefined();
    const files: Record<string, string> = {
      "/c.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      "/k.pem": PEM,
    };
    const tls = readSettings(
      { ...base, MAYFLY_TLS_CERT_FILE: "/c.pem", MAYFLY_TLS_KEY_FILE: "/k.pem" },
      (path) => files[path] ?? "",
    ).tls;
    expect(tls).toMatchObject({ kind: "files", cert: files["/c.pem"] });
    expect(tls?.kind === "files" && tls.key.reveal()).toBe(PEM);
    expect(problems({ ...base, MAYFLY_TLS: "on" })).toEqual([
      'MAYFLY_TLS: expected "self-signed" (or set MAYFLY_TLS_CERT_FILE and MAYFLY_TLS_KEY_FILE), got "on"',
    ]);
    expect(problems({ ...base, MAYFLY_TLS_CERT_FILE: "/c.pem" })).toEqual([
      "MAYFLY_TLS_CERT_FILE and MAYFLY_TLS_KEY_FILE: set both or neither",
    ]);
    expect(
      problems({ ...base, MAYFLY_TLS_CERT_FILE: "/c.pem", MAYFLY_TLS_KEY_FILE: "/k.pem" }),
    ).toEqual([
      "MAYFLY_TLS_CERT_FILE: cannot read /c.pem (ENOENT)",
      "MAYFLY_TLS_KEY_FILE: cannot read /k.pem (ENOENT)",
    ]);
  });

  it("reads only the database settings for migrations", () => {
    expect(readDatabaseSettings({ DATABASE_URL: "postgresql://h/d" }).databaseUrl?.reveal()).toBe(
      "postgresql://h/d",
    );
    expect(readDatabaseSettings({ MAYFLY_DATA_DIR: "/var/lib/mayfly" }).dataDir).toBe(
      "/var/lib/mayfly",
    );
  });

  it("reports environment and fleet file problems together", () => {
    expect(() => loadConfig({ MAYFLY_CONFIG: "does-not-exist.yaml" })).toThrow(
      /GITHUB_WEBHOOK_SECRET: required[\s\S]*does-not-exist\.yaml: cannot read/,
    );
    expect(() => loadConfig({ GITHUB_WEBHOOK_SECRET: "s" })).toThrow(/MAYFLY_CONFIG: required/);
    expect(loadConfig({ GITHUB_WEBHOOK_SECRET: "s" }, "examples/fleet.yaml").fleet.fleet).toBe(
      "example",
    );
  });

  it("takes the fleet file's text from MAYFLY_CONFIG_YAML when no path is given, naming it in errors", () => {
    const yaml = readFileSync("examples/fleet.yaml", "utf8");
    const config = loadConfig({ GITHUB_WEBHOOK_SECRET: "s", MAYFLY_CONFIG_YAML: yaml });
    expect(config.fleet.fleet).toBe("example");
    expect(config.fleetPath).toBe("MAYFLY_CONFIG_YAML");
    expect(() =>
      loadConfig({ GITHUB_WEBHOOK_SECRET: "s", MAYFLY_CONFIG_YAML: "fleet: [unclosed" }),
    ).toThrow(/MAYFLY_CONFIG_YAML/);
    // A path wins over the text.
    expect(
      loadConfig({
        GITHUB_WEBHOOK_SECRET: "s",
        MAYFLY_CONFIG: "examples/fleet.yaml",
        MAYFLY_CONFIG_YAML: "not: used",
      }).fleetPath,
    ).toBe("examples/fleet.yaml");
  });

  it("takes GITHUB_API_URL over https, or over http only to this machine", () => {
    for (const url of [
      "https://ghe.example.com/api/v3",
      "http://127.0.0.1:8443",
      "http://localhost:3000",
      "http://[::1]:9000",
    ])
      expect(readSettings({ GITHUB_WEBHOOK_SECRET: "s", GITHUB_API_URL: url }).githubApiUrl).toBe(
        url,
      );
    // The installation tokens and JIT configs it answers would cross the network in clear.
    for (const url of [
      "http://ghe.example.com/api/v3",
      "http://10.0.0.5",
      "http://127.example.com",
    ])
      expect(problems({ GITHUB_WEBHOOK_SECRET: "s", GITHUB_API_URL: url })).toEqual([
        `GITHUB_API_URL: expected an https URL (http only to this machine), got "${url}"`,
      ]);
  });

  it("needs the runner endpoint to launch when served beyond this machine, over https", () => {
    const app = { GITHUB_WEBHOOK_SECRET: "s", GITHUB_APP_ID: "12", GITHUB_APP_PRIVATE_KEY: PEM };
    expect(problems({ ...app, MAYFLY_HOST: "0.0.0.0" })).toEqual([
      expect.stringMatching(/^MAYFLY_RUNNER_ENDPOINT: required to launch runners/),
    ]);
    // On loopback only, VMs on this machine (the simulators') ask where it listens.
    expect(readSettings(app).runnerEndpoint).toBeUndefined();
    expect(
      readSettings({
        ...app,
        MAYFLY_HOST: "0.0.0.0",
        MAYFLY_RUNNER_ENDPOINT: "https://mayfly.example.com/",
      }).runnerEndpoint,
    ).toBe("https://mayfly.example.com");
    // The VM's JIT config would cross the network in clear.
    expect(
      problems({ ...app, MAYFLY_HOST: "0.0.0.0", MAYFLY_RUNNER_ENDPOINT: "http://10.0.0.5" }),
    ).toEqual([
      'MAYFLY_RUNNER_ENDPOINT: expected an https URL (http only to this machine), got "http://10.0.0.5"',
    ]);
  });

  it("reads the fleet's AWS account as 12 digits", () => {
    expect(
      readSettings({ GITHUB_WEBHOOK_SECRET: "s", MAYFLY_AWS_ACCOUNT_ID: "123456789012" })
        .awsAccountId,
    ).toBe("123456789012");
    expect(problems({ GITHUB_WEBHOOK_SECRET: "s", MAYFLY_AWS_ACCOUNT_ID: "1234" })).toEqual([
      'MAYFLY_AWS_ACCOUNT_ID: expected 12 digits, got "1234"',
    ]);
  });

  it("reads the reconcile schedule and GitHub write spacing, refusing bad values by name", () => {
    const settings = readSettings({
      GITHUB_WEBHOOK_SECRET: "s",
      MAYFLY_RECONCILE_SCHEDULE: "*/10 * * * * *",
      MAYFLY_GITHUB_WRITE_SPACING_MS: "250",
    });
    expect(settings).toMatchObject({
      reconcileSchedule: "*/10 * * * * *",
      githubWriteSpacingMs: 250,
    });
    const found = problems({
      GITHUB_WEBHOOK_SECRET: "s",
      MAYFLY_RECONCILE_SCHEDULE: "every minute",
      MAYFLY_GITHUB_WRITE_SPACING_MS: "-5",
    });
    expect(found.some((p) => p.startsWith("MAYFLY_RECONCILE_SCHEDULE: expected a cron"))).toBe(
      true,
    );
    expect(found.some((p) => p.startsWith("MAYFLY_GITHUB_WRITE_SPACING_MS"))).toBe(true);
  });
});
