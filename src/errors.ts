/**
 * The catalog of errors mayfly raises on purpose. Each carries a stable code; HTTP status
 * and CLI exit code are mapped in one place (`httpStatusOf`, `exitCodeOf`) below.
 */
export class MayflyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The environment or the fleet file is wrong; `problems` lists every issue found. */
export class ConfigError extends MayflyError {
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super("CONFIG_INVALID", `invalid configuration:\n  - ${problems.join("\n  - ")}`, options);
  }
}

/** A webhook whose X-Hub-Signature-256 is missing or does not match any secret. */
export class SignatureError extends MayflyError {
  constructor(message: string) {
    super("SIGNATURE_INVALID", message);
  }
}

/** Why an EC2 identity document and its signature were refused (never a sign of which secret). */
export type IdentityRefusal =
  | "malformed"
  | "untrusted-signer"
  | "bad-signature"
  | "content-mismatch"
  | "bad-document"
  | "wrong-region";

/**
 * An EC2 instance identity document whose signature is malformed, not from a trusted
 * certificate, or whose signed content is not the document sent. The message never holds the
 * signature blob.
 */
export class IdentityError extends MayflyError {
  constructor(
    readonly reason: IdentityRefusal,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("IDENTITY_INVALID", message, options);
  }
}

/** A webhook body that is not JSON or does not have the shape of its event. */
export class PayloadError extends MayflyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("PAYLOAD_INVALID", message, options);
  }
}

/** A request whose content type we do not accept. */
export class MediaTypeError extends MayflyError {
  constructor(message: string) {
    super("MEDIA_TYPE_UNSUPPORTED", message);
  }
}

/** The ledger (database) could not be opened, migrated or queried. */
export class LedgerError extends MayflyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("LEDGER_UNAVAILABLE", message, options);
  }
}

/** The cloud has no capacity for this launch; `failure` says what to try next. */
export class CapacityError extends MayflyError {
  constructor(
    readonly failure: "capacity" | "zone-unsupported" | "spot-limit",
    message: string,
    options?: { cause?: unknown },
  ) {
    super("CLOUD_CAPACITY", message, options);
  }
}

/** The cloud refused the request for good (bad image, bad subnet, missing permission). */
export class CloudError extends MayflyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CLOUD_FAILED", message, options);
  }
}

/** The cloud has something in the way, e.g. a subnet whose CIDR overlaps the one asked for. */
export class CloudConflictError extends MayflyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CLOUD_CONFLICT", message, options);
  }
}

/**
 * GitHub answered with an error or not at all; `status` is the HTTP status (undefined when
 * no answer came). The message names the request, never a token or a JIT config.
 */
export class GitHubError extends MayflyError {
  constructor(
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("GITHUB_UNAVAILABLE", message, options);
  }
}

/** The AWS account lacks a permission or resource the fleet file needs (`mayfly doctor`). */
export class CloudSetupError extends MayflyError {
  constructor(message: string) {
    super("CLOUD_SETUP_INCOMPLETE", message);
  }
}

/** A command-line usage mistake. */
export class UsageError extends MayflyError {
  constructor(message: string) {
    super("USAGE", message);
  }
}

/** A report request (CLI flags or API query) that names something unknown or malformed. */
export class QueryError extends MayflyError {
  constructor(message: string) {
    super("QUERY_INVALID", message);
  }
}

/** A request to the admin API or status page without the admin token. */
export class AuthError extends MayflyError {
  constructor() {
    super("UNAUTHORIZED", "a valid admin token is required (Authorization: Bearer ...)");
  }
}

/** Too many failed admin-token attempts from one address: 429 with Retry-After. */
export class TooManyAttemptsError extends MayflyError {
  constructor(readonly retryAfterSeconds: number) {
    super("TOO_MANY_ATTEMPTS", `too many refused attempts: try again in ${retryAfterSeconds} s`);
  }
}

const httpStatus: Record<string, number> = {
  SIGNATURE_INVALID: 401,
  IDENTITY_INVALID: 401,
  UNAUTHORIZED: 401,
  TOO_MANY_ATTEMPTS: 429,
  QUERY_INVALID: 400,
  PAYLOAD_INVALID: 400,
  MEDIA_TYPE_UNSUPPORTED: 415,
  LEDGER_UNAVAILABLE: 503,
  GITHUB_UNAVAILABLE: 503,
};

/** HTTP status for an error; anything outside the catalog is a 500. */
export function httpStatusOf(error: unknown): number {
  return error instanceof MayflyError ? (httpStatus[error.code] ?? 500) : 500;
}

const exitCodes: Record<string, number> = {
  USAGE: 64, // EX_USAGE
  QUERY_INVALID: 64, // EX_USAGE
  UNAUTHORIZED: 77, // EX_NOPERM
  PAYLOAD_INVALID: 65, // EX_DATAERR
  LEDGER_UNAVAILABLE: 69, // EX_UNAVAILABLE
  GITHUB_UNAVAILABLE: 69, // EX_UNAVAILABLE
  CONFIG_INVALID: 78, // EX_CONFIG
  CLOUD_SETUP_INCOMPLETE: 78, // EX_CONFIG: the account does not match the fleet file
};

/** Process exit code for an error (sysexits.h values); anything else is 1. */
export function exitCodeOf(error: unknown): number {
  return error instanceof MayflyError ? (exitCodes[error.code] ?? 1) : 1;
}
