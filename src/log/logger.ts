import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

// Field names whose values are secret wherever they appear.
const SECRET_PATHS = [
  "req.headers.authorization",
  'req.headers["x-hub-signature-256"]',
  "*.authorization",
  "*.token",
  "*.secret",
  "*.password",
  "*.privateKey",
  "*.private_key",
  "*.webhookSecret",
  "*.jitConfig",
  "*.encoded_jit_config",
  "*.databaseUrl",
];

// Values that look like credentials, whatever field carries them.
const SECRET_SHAPES: [RegExp, string][] = [
  [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    "[redacted key]",
  ],
  [/\b(gh[opsur]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, "[redacted token]"],
  [/\b(postgres(?:ql)?:\/\/[^:/@\s]+):[^@\s]+@/g, "$1:[redacted]@"],
  [/\bsha256=[0-9a-f]{64}\b/g, "sha256=[redacted]"],
  [/\b(Bearer|token)\s+[A-Za-z0-9._~+/-]{8,}=*/gi, "$1 [redacted]"],
  // A JWT whole (an App JWT, or an installation token of that form, ~520 characters): its
  // header and payload are base64url JSON, and the signature after them is part of it.
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, "[redacted jwt]"],
  // AWS access key IDs, long-term (AKIA) and temporary (ASIA):
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, "[redacted aws key]"],
  // Base64 of a JSON object ("{" encodes as "ey"): a JIT config is one (GitHub's
  // encoded_jit_config holds the runner's credentials), and it can turn up in an error's
  // text, where no field name gives it away.
  [/\bey[A-Za-z0-9+/_-]{38,}={0,2}/g, "[redacted]"],
  // Any other long base64 run with upper and lower case letters and digits (an AWS secret
  // access key is 40). Hex digests and IDs have one case and pass; so do URL paths, whose
  // runs hold three slashes or more.
  [
    /(?<![A-Za-z0-9+/])(?!(?:[A-Za-z0-9+]*\/){3})(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{40,}={0,2}/g,
    "[redacted]",
  ],
];

// Keys whose values are secret at any depth of a logged object.
const SECRET_KEY =
  /secret|token|password|authorization|private_?key|jit_?config|cookie|user_?data|credentials/i;

/** Replaces credential-shaped substrings in a string. */
export function scrub(text: string): string {
  return SECRET_SHAPES.reduce((acc, [shape, replacement]) => acc.replace(shape, replacement), text);
}

function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrub(value);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  // Errors are serialized here, so a credential in a message or a cause is scrubbed whichever
  // serializer (ours or the HTTP framework's) would have handled them.
  if (value instanceof Error) return scrubDeep({ ...pino.stdSerializers.err(value) }, depth + 1);
  // Class instances (errors, requests) are left to their serializers, which scrub too.
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) && v != null ? "[redacted]" : scrubDeep(v, depth + 1),
    ]),
  );
}

/** The process logger: JSON lines, secrets redacted by field name and by shape. */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  const logger = pino(
    {
      level: options.level,
      base: { service: "mayfly" },
      redact: { paths: SECRET_PATHS, censor: "[redacted]" },
      formatters: { log: (fields) => scrubDeep(fields) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === "string" ? scrub(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    options.destination,
  );
  // A child logger's bindings are serialized once, when it is made, and pass through neither
  // the log formatter nor pino's bindings formatter (which only the root's base gets): they
  // are scrubbed here. Children inherit this method, with `this` the child.
  const child = logger.child;
  logger.child = function scrubbedChild(this: Logger, bindings, childOptions) {
    return child.call(this, scrubDeep(bindings) as typeof bindings, childOptions);
  } as typeof child;
  return logger;
}
