import { z } from "zod";
import { Secret } from "../config/secret.js";
import { GitHubError } from "../errors.js";

/** The App GitHub created from the manifest, with the credentials mayfly needs. */
export interface ConvertedApp {
  id: number;
  slug: string;
  name: string;
  htmlUrl: string;
  owner: string | undefined;
  privateKey: Secret;
  webhookSecret: Secret;
}

// The answer's fields we use; the client secret (OAuth) is not among them: mayfly never needs it.
// https://docs.github.com/en/rest/apps/apps#create-a-github-app-from-a-manifest
const conversionSchema = z.object({
  id: z.number().int().positive(),
  slug: z.string().min(1),
  name: z.string(),
  html_url: z.string(),
  owner: z.object({ login: z.string() }).nullish(),
  pem: z.string().regex(/-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  webhook_secret: z.string().min(1),
});

const ROUTE = "POST /app-manifests/{code}/conversions";

/**
 * Trades the code GitHub handed back for the App's credentials. The code works once, for an
 * hour; no authentication is needed. Errors never carry the code.
 */
export async function convertManifestCode(
  apiUrl: string,
  code: string,
  fetchFn: typeof fetch,
): Promise<ConvertedApp> {
  let response: Response;
  try {
    response = await fetchFn(`${apiUrl}/app-manifests/${encodeURIComponent(code)}/conversions`, {
      method: "POST",
      headers: {
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "user-agent": "mayfly",
      },
    });
  } catch (error) {
    throw new GitHubError(undefined, `GitHub ${ROUTE}: no answer`, { cause: error });
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (response.status === 404) {
    throw new GitHubError(
      404,
      `GitHub ${ROUTE}: HTTP 404: the code is unknown, already used or older than one hour; ` +
        "run mayfly app create again (and delete the App on GitHub if it was created)",
    );
  }
  if (response.status !== 201) {
    const said = (body as { message?: unknown } | undefined)?.message;
    const detail = typeof said === "string" ? ` (${said.slice(0, 200)})` : "";
    throw new GitHubError(response.status, `GitHub ${ROUTE}: HTTP ${response.status}${detail}`);
  }
  const parsed = conversionSchema.safeParse(body);
  if (!parsed.success) {
    // Only field names: the answer holds the key and secrets.
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".")))].join(", ");
    throw new GitHubError(201, `GitHub ${ROUTE}: unexpected answer (fields: ${fields})`);
  }
  const app = parsed.data;
  return {
    id: app.id,
    slug: app.slug,
    name: app.name,
    htmlUrl: app.html_url,
    owner: app.owner?.login,
    privateKey: new Secret(app.pem),
    webhookSecret: new Secret(app.webhook_secret),
  };
}
