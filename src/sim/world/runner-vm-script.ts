import { parse } from "yaml";
import { ASSIGNMENT_URL_PATH, BOOT_TIMEOUT_PATH } from "../../runner-vm/render-user-data.js";

/** What a runner VM's user data tells it (the data files its cloud-config writes). */
export interface VmSettings {
  readonly assignmentUrl: string;
  readonly bootTimeoutSeconds: number;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The assignment URL and boot timeout of a runner VM's user data, or undefined when it has
 * none (the boot script then powers off).
 */
export function vmSettingsOf(userData: string): VmSettings | undefined {
  try {
    const document: unknown = parse(userData);
    const files = (document as { write_files?: unknown } | null)?.write_files;
    if (!Array.isArray(files)) return undefined;
    const content = (path: string) => {
      const file = files.find((f) => (f as { path?: unknown } | null)?.path === path) as
        | { content?: unknown }
        | undefined;
      return typeof file?.content === "string" ? file.content : undefined;
    };
    const assignmentUrl = content(ASSIGNMENT_URL_PATH);
    const bootTimeoutSeconds = Number(content(BOOT_TIMEOUT_PATH));
    if (assignmentUrl === undefined || !(bootTimeoutSeconds > 0)) return undefined;
    return { assignmentUrl, bootTimeoutSeconds };
  } catch {
    return undefined;
  }
}

/** The runner ID inside a JIT config (base64 JSON with a `.runner` entry), or undefined. */
export function runnerIdOfJitConfig(encoded: string): number | undefined {
  if (!BASE64.test(encoded)) return undefined;
  try {
    const config: unknown = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
    const id = (config as Record<string, unknown> | null)?.[".runner"];
    return typeof id === "number" && Number.isInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** One answer of the assignment endpoint as the boot script reads it. */
export type AskResult =
  | { readonly kind: "assigned"; readonly jitConfig: string }
  | { readonly kind: "again"; readonly afterMs: number }
  | { readonly kind: "power-off"; readonly status: number };

// The boot script's clamps (cloud-init/mayfly-boot.sh): Retry-After from 1 to 30 s.
const RETRY_DEFAULT_S = 2;

/** Asks once, as the boot script does: a network error or a 5xx is asked again. */
export async function askAssignment(
  url: string,
  body: { readonly document: string; readonly signature: string },
): Promise<AskResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(25_000),
    });
  } catch {
    return { kind: "again", afterMs: 1000 };
  }
  const text = await response.text().catch(() => "");
  const retryAfter = Number(response.headers.get("retry-after") ?? RETRY_DEFAULT_S);
  const afterMs = Math.min(30, Math.max(1, Number.isFinite(retryAfter) ? retryAfter : 2)) * 1000;
  if (response.status === 200) {
    const jitConfig = (JSON.parse(text) as { jitConfig?: unknown }).jitConfig;
    return typeof jitConfig === "string" && BASE64.test(jitConfig)
      ? { kind: "assigned", jitConfig }
      : { kind: "power-off", status: 200 };
  }
  if (response.status === 204 || response.status === 429) return { kind: "again", afterMs };
  if (response.status >= 500) return { kind: "again", afterMs: 1000 };
  return { kind: "power-off", status: response.status };
}
