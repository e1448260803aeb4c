import { sign } from "node:crypto";

/** An App JWT signed with `privateKey`, as GitHub expects one; claims can be bent per test. */
export function appJwt(
  privateKey: string,
  appId: number,
  claims: { iat?: number; exp?: number; iss?: unknown } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const body = `${part({ alg: "RS256", typ: "JWT" })}.${part({ iat: now - 30, exp: now + 540, iss: appId, ...claims })}`;
  return `${body}.${sign("sha256", Buffer.from(body), privateKey).toString("base64url")}`;
}
