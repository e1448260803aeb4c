import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import cron from "node-cron";
import { ConfigError } from "../errors.js";
import { deepFreeze } from "./deep-freeze.js";
import { readIdentityCertFile } from "./identity-cert-file.js";
import { Secret } from "./secret.js";

/** Everything mayfly reads from its environment, validated once at start. */
export interface Settings {
  readonly webhookSecrets: readonly Secret[];
  readonly githubApp?: { readonly appId: number; readonly privateKey: Secret };
  readonly githubApiUrl: string;
  /** Absent: the embedded PGlite database under `dataDir`. */
  readonly databaseUrl?: Secret;
  readonly dataDir: string;
  readonly adminToken?: Secret;
  readonly configPath?: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  readonly webhookBodyLimitBytes: number;
  /** The reconciler's cron schedule (node-cron, seconds field allowed); absent: every minute. */
  readonly reconcileSchedule?: string;
  /** Pause between GitHub writes; absent: GitHub's recommended one second. */
  readonly githubWriteSpacingMs?: number;
  /** PEM certificates trusted for EC2 identity documents instead of AWS's; absent: AWS's. */
  readonly ec2IdentityCertificates?: readonly string[];
  /**
   * The controller's base URL as runner VMs reach it (through their subnets' egress), for
   * `POST /runner/v1/assignment`; required to launch runners unless the controller listens
   * on loopback only (then: where it listens).
   */
  readonly runnerEndpoint?: string;
  /** The AWS account runner VMs must belong to; absent: not checked. */
  readonly awsAccountId?: string;
  /**
   * HTTPS where the controller listens: a certificate made at start ("self-signed", for the
   * hop from a load balancer, which does not check it) or one from files.
   */
  readonly tls?:
    | { readonly kind: "self-signed" }
    | { readonly kind: "files"; readonly cert: string; readonly key: Secret };
}

type Env = Readonly<Record<string, string | undefined>>;
type ReadFile = (path: string) => string;

// The admin token guards usage, job listings and metrics; one short enough to guess is none.
const ADMIN_TOKEN_MIN_BYTES = 32;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
// A workflow_job payload is a few kilobytes; a body is buffered whole before its signature
// is checked, so the default keeps what anyone can make the controller hold small. GitHub's
// own cap is 25 MB: https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap
const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Reads the settings from an environment. Every problem is collected and reported together,
 * each naming its variable; secret values never appear in a message.
 */
export function readSettings(
  env: Env,
  readFile: ReadFile = (p) => readFileSync(p, "utf8"),
): Settings {
  const problems: string[] = [];
  const text = (key: string) => {
    const value = env[key]?.trim();
    return value ? value : undefined;
  };
  const integer = (key: string, fallback: number, min: number, max: number) => {
    const raw = text(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${key}: expected a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const webhookSecrets = (text("GITHUB_WEBHOOK_SECRET") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => new Secret(s));
  if (webhookSecrets.length === 0) {
    problems.push(
      "GITHUB_WEBHOOK_SECRET: required (the App's webhook secret; several, comma-separated, during rotation)",
    );
  }

  const { githubApp, githubApiUrl } = readGithub(text, readFile, problems);

  const database = readDatabase(text, problems);

  const logLevel = text("LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }

  const reconcileSchedule = text("MAYFLY_RECONCILE_SCHEDULE");
  if (reconcileSchedule !== undefined && !cron.validate(reconcileSchedule)) {
    problems.push(
      `MAYFLY_RECONCILE_SCHEDULE: expected a cron expression (seconds field allowed), got "${reconcileSchedule}"`,
    );
  }
  const writeSpacing = text("MAYFLY_GITHUB_WRITE_SPACING_MS");
  const identityCertificates = readIdentityCertFile(
    text("MAYFLY_EC2_IDENTITY_CERT_FILE"),
    readFile,
    problems,
  );

  const runnerEndpoint = text("MAYFLY_RUNNER_ENDPOINT")?.replace(/\/+$/, "");
  if (runnerEndpoint !== undefined && !isHttpsOrLoopback(runnerEndpoint)) {
    problems.push(
      `MAYFLY_RUNNER_ENDPOINT: expected an https URL (http only to this machine), got "${runnerEndpoint}"`,
    );
  } else if (
    runnerEndpoint === undefined &&
    githubApp !== undefined &&
    !isLoopbackHost(text("MAYFLY_HOST") ?? "127.0.0.1")
  ) {
    // Served on this machine only, VMs on it (the simulators') ask where it listens.
    problems.push(
      "MAYFLY_RUNNER_ENDPOINT: required to launch runners (the controller's https URL as runner VMs reach it, for their assignment)",
    );
  }
  const tls = readTls(text, readFile, problems);
  const awsAccountId = text("MAYFLY_AWS_ACCOUNT_ID");
  if (awsAccountId !== undefined && !/^\d{12}$/.test(awsAccountId))
    problems.push(`MAYFLY_AWS_ACCOUNT_ID: expected 12 digits, got "${awsAccountId}"`);

  const adminToken = text("MAYFLY_ADMIN_TOKEN");
  if (adminToken !== undefined && Buffer.byteLength(adminToken) < ADMIN_TOKEN_MIN_BYTES) {
    // Its length only: the value is a secret.
    problems.push(
      `MAYFLY_ADMIN_TOKEN: expected at least ${ADMIN_TOKEN_MIN_BYTES} bytes (openssl rand -hex 32 makes one), got ${Buffer.byteLength(adminToken)}`,
    );
  }

  const settings: Settings = {
    webhookSecrets,
    ...(githubApp ? { githubApp } : {}),
    githubApiUrl,
    ...database,
    ...(adminToken ? { adminToken: new Secret(adminToken) } : {}),
    ...(text("MAYFLY_CONFIG") ? { configPath: text("MAYFLY_CONFIG") as string } : {}),
    host: text("MAYFLY_HOST") ?? "127.0.0.1",
    port: integer("MAYFLY_PORT", 8080, 0, 65535),
    logLevel,
    webhookBodyLimitBytes: integer(
      "MAYFLY_WEBHOOK_BODY_LIMIT",
      DEFAULT_BODY_LIMIT,
      1024,
      100 * 1024 * 1024,
    ),
    ...(reconcileSchedule ? { reconcileSchedule } : {}),
    ...(writeSpacing === undefined
      ? {}
      : { githubWriteSpacingMs: integer("MAYFLY_GITHUB_WRITE_SPACING_MS", 1000, 0, 60_000) }),
    ...(identityCertificates ? { ec2IdentityCertificates: identityCertificates } : {}),
    ...(runnerEndpoint ? { runnerEndpoint } : {}),
    ...(awsAccountId ? { awsAccountId } : {}),
    ...(tls ? { tls } : {}),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(settings);
}

type DatabaseSettings = Pick<Settings, "databaseUrl" | "dataDir">;

/** Only where the ledger lives (for `mayfly migrate`, which needs no webhook secret). */
export function readDatabaseSettings(env: Env): DatabaseSettings {
  const problems: string[] = [];
  const database = readDatabase((key) => env[key]?.trim() || undefined, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return database;
}

function readDatabase(
  text: (key: string) => string | undefined,
  problems: string[],
): DatabaseSettings {
  const url = text("DATABASE_URL");
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    // The URL may hold a password: do not echo it.
    problems.push("DATABASE_URL: expected a postgres:// or postgresql:// URL");
  }
  return {
    ...(url ? { databaseUrl: new Secret(url) } : {}),
    dataDir: resolve(text("MAYFLY_DATA_DIR") ?? ".mayfly/data"),
  };
}

function readTls(
  text: (key: string) => string | undefined,
  readFile: ReadFile,
  problems: string[],
): Settings["tls"] {
  const mode = text("MAYFLY_TLS");
  const certFile = text("MAYFLY_TLS_CERT_FILE");
  const keyFile = text("MAYFLY_TLS_KEY_FILE");
  if (mode !== undefined && mode !== "self-signed") {
    problems.push(
      `MAYFLY_TLS: expected "self-signed" (or set MAYFLY_TLS_CERT_FILE and MAYFLY_TLS_KEY_FILE), got "${mode}"`,
    );
    return undefined;
  }
  if (mode !== undefined && (certFile !== undefined || keyFile !== undefined)) {
    problems.push("MAYFLY_TLS and MAYFLY_TLS_CERT_FILE/MAYFLY_TLS_KEY_FILE: set only one");
    return undefined;
  }
  if (mode === "self-signed") return { kind: "self-signed" };
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    problems.push("MAYFLY_TLS_CERT_FILE and MAYFLY_TLS_KEY_FILE: set both or neither");
    return undefined;
  }
  const read = (key: string, path: string, pattern: RegExp, what: string) => {
    try {
      const text = readFile(path);
      if (pattern.test(text)) return text;
      problems.push(`${key}: ${path} is not a PEM ${what}`);
    } catch (error) {
      problems.push(
        `${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`,
      );
    }
    return undefined;
  };
  const cert = read("MAYFLY_TLS_CERT_FILE", certFile, /-----BEGIN CERTIFICATE-----/, "certificate");
  const key = read(
    "MAYFLY_TLS_KEY_FILE",
    keyFile,
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    "private key",
  );
  return cert === undefined || key === undefined
    ? undefined
    : { kind: "files", cert, key: new Secret(key) };
}

/**
 * The App's credentials (absent without GITHUB_APP_ID) and the API URL alone, for a command
 * that asks GitHub and needs nothing else (`doctor`).
 */
export function readGithubSettings(
  env: Env,
  readFile: ReadFile = (p) => readFileSync(p, "utf8"),
): Pick<Settings, "githubApp" | "githubApiUrl"> {
  const problems: string[] = [];
  const text = (key: string) => env[key]?.trim() || undefined;
  const { githubApp, githubApiUrl } = readGithub(text, readFile, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...(githubApp ? { githubApp } : {}), githubApiUrl };
}

function readGithub(
  text: (key: string) => string | undefined,
  readFile: ReadFile,
  problems: string[],
): { githubApp: Settings["githubApp"]; githubApiUrl: string } {
  const githubApp = readGithubApp(text, readFile, problems);
  const githubApiUrl = (text("GITHUB_API_URL") ?? "https://api.github.com").replace(/\/+$/, "");
  if (!isHttpsOrLoopback(githubApiUrl)) {
    problems.push(
      `GITHUB_API_URL: expected an https URL (http only to this machine), got "${githubApiUrl}"`,
    );
  }
  return { githubApp, githubApiUrl };
}

function readGithubApp(
  text: (key: string) => string | undefined,
  readFile: ReadFile,
  problems: string[],
): Settings["githubApp"] {
  const appIdText = text("GITHUB_APP_ID");
  const inlineKey = text("GITHUB_APP_PRIVATE_KEY");
  const keyFile = text("GITHUB_APP_PRIVATE_KEY_FILE");
  if (appIdText === undefined && inlineKey === undefined && keyFile === undefined) return undefined;

  let appId = 0;
  if (appIdText === undefined) problems.push("GITHUB_APP_ID: required when a private key is given");
  else if (!/^\d+$/.test(appIdText))
    problems.push(`GITHUB_APP_ID: expected a number, got "${appIdText}"`);
  else appId = Number(appIdText);

  let key: string | undefined;
  if (inlineKey !== undefined && keyFile !== undefined) {
    problems.push("GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE: set only one");
  } else if (keyFile !== undefined) {
    try {
      key = readFile(keyFile);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
      problems.push(`GITHUB_APP_PRIVATE_KEY_FILE: cannot read ${keyFile} (${reason})`);
    }
  } else if (inlineKey !== undefined) {
    // Environments often carry a PEM with literal "\n" sequences.
    key = inlineKey.replace(/\\n/g, "\n");
  } else {
    problems.push(
      "GITHUB_APP_PRIVATE_KEY: required when GITHUB_APP_ID is set (or GITHUB_APP_PRIVATE_KEY_FILE)",
    );
  }
  if (key !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    problems.push(
      `${keyFile !== undefined ? "GITHUB_APP_PRIVATE_KEY_FILE" : "GITHUB_APP_PRIVATE_KEY"}: not a PEM private key`,
    );
  }
  return key === undefined ? undefined : { appId, privateKey: new Secret(key) };
}

/**
 * An https URL, or http to this machine only (tests, the demo): a request to anywhere else
 * in clear could be read or answered by the network between.
 */
function isHttpsOrLoopback(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
}

function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    hostname === "::1" ||
    /^127(\.\d{1,3}){3}$/.test(hostname)
  );
}
