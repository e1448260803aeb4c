import { parse } from "yaml";
import { JIT_CONFIG_PATH } from "../../runner-vm/render-user-data.js";

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The runner ID inside the JIT config a runner VM's user data carries (the cloud-config
 * file written to JIT_CONFIG_PATH), or undefined when there is none (the runner would then
 * fail to start).
 */
export function jitRunnerId(userData: string): number | undefined {
  try {
    const document: unknown = parse(userData);
    const files = (document as { write_files?: unknown } | null)?.write_files;
    if (!Array.isArray(files)) return undefined;
    const file = files.find((f) => (f as { path?: unknown } | null)?.path === JIT_CONFIG_PATH) as
      | { content?: unknown }
      | undefined;
    const encoded = file?.content;
    if (typeof encoded !== "string" || !BASE64.test(encoded)) return undefined;
    const config: unknown = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
    const id = (config as Record<string, unknown> | null)?.[".runner"];
    return typeof id === "number" && Number.isInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
