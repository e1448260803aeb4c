const JIT_FLAG = /--jitconfig\s+'([A-Za-z0-9+/]+={0,2})'/;

/**
 * The runner ID inside the JIT config a runner VM's user data starts `run.sh` with, or
 * undefined when there is none (the runner would then fail to start).
 */
export function jitRunnerId(userData: string): number | undefined {
  const encoded = JIT_FLAG.exec(userData)?.[1];
  if (encoded === undefined) return undefined;
  try {
    const config: unknown = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
    const id = (config as Record<string, unknown> | null)?.[".runner"];
    return typeof id === "number" && Number.isInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
