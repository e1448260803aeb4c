import type { Secret } from "../config/secret.js";
import { renderUserData as renderRunnerVm } from "../runner-vm/render-user-data.js";

export type RunnerVmTimes = {
  /** Seconds the VM waits for its job before powering off. */
  readonly idleTimeout: number;
  /** Seconds after which the VM powers off whatever it is doing. */
  readonly maxLifetime: number;
  /** The runner tarball for images without the runner preinstalled. */
  readonly runner?: { readonly tarballUrl: string; readonly sha256: string } | undefined;
};

// The fleet file's defaults (src/config/fleet-schema.ts), for callers without a pool.
const DEFAULT_TIMES: RunnerVmTimes = { idleTimeout: 600, maxLifetime: 6 * 3600 };

/**
 * The runner VM's user data for one job: the cloud-init bootstrap in cloud-init/, rendered
 * by src/runner-vm/. Only the JIT config (checked to be base64), the pool's watchdog times
 * and its runner tarball reach the VM; no job field ever does.
 */
export function renderUserData(jitConfig: Secret, times: RunnerVmTimes = DEFAULT_TIMES): Secret {
  return renderRunnerVm({
    jitConfig,
    idleTimeoutSeconds: times.idleTimeout,
    maxLifetimeSeconds: times.maxLifetime,
    ...(times.runner ? { runner: times.runner } : {}),
  });
}
