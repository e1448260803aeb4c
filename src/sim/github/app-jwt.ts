import { type KeyObject, verify } from "node:crypto";

// GitHub refuses App JWTs that expire more than 10 minutes after they were issued.
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
const MAX_LIFETIME_SECONDS = 600;
const CLOCK_DRIFT_SECONDS = 60;

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Checks an App JWT (RS256, iss = App ID, sane iat/exp); returns what is wrong, or undefined. */
export function appJwtProblem(
  jwt: string,
  publicKey: KeyObject,
  appId: number,
  nowSeconds: number,
): string | undefined {
  const [head, body, signature, ...rest] = jwt.split(".");
  if (head === undefined || body === undefined || signature === undefined || rest.length > 0) {
    return "A JSON web token could not be decoded";
  }
  const header = decodePart(head);
  const claims = decodePart(body);
  if (header?.alg !== "RS256" || claims === undefined) {
    return "A JSON web token could not be decoded";
  }
  const signed = verify(
    "sha256",
    Buffer.from(`${head}.${body}`),
    publicKey,
    Buffer.from(signature, "base64url"),
  );
  if (!signed) return "A JSON web token could not be decoded";
  if (String(claims.iss) !== String(appId)) return "Integration not found";
  const { iat, exp } = claims;
  if (typeof iat !== "number" || typeof exp !== "number") {
    return "A JSON web token could not be decoded";
  }
  if (exp <= nowSeconds)
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  if (iat > nowSeconds + CLOCK_DRIFT_SECONDS)
    return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
  if (exp - iat > MAX_LIFETIME_SECONDS)
    return "'Expiration time' claim ('exp') is too far in the future";
  return undefined;
}

/** The `iss` claim of a JWT, unverified: it says which App's key to check the JWT with. */
export function jwtIssuer(jwt: string): number | undefined {
  const iss = decodePart(jwt.split(".")[1] ?? "")?.iss;
  const id = Number(iss);
  return typeof iss !== "boolean" && Number.isInteger(id) && id > 0 ? id : undefined;
}
