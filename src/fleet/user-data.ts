import { Secret } from "../config/secret.js";
import {
  type RunnerVmHooks,
  renderUserData as renderRunnerVm,
  USER_DATA_LIMIT_BYTES,
  type UserDataInput,
  userDataBytes,
} from "../runner-vm/render-user-data.js";

export type RunnerVmTimes = {
  /** Seconds the VM waits for its job before powering off. */
  readonly idleTimeout: number;
  /** Seconds after which the VM powers off whatever it is doing. */
  readonly maxLifetime: number;
  /** The runner tarball for images without the runner preinstalled. */
  readonly runner?: { readonly tarballUrl: string; readonly sha256: string } | undefined;
  /** The pool's operator hooks. */
  readonly hooks?: RunnerVmHooks | undefined;
  /** Keep the image's operator access (SSM agent, serial console) on the VM. */
  readonly operatorAccess?: boolean | undefined;
};

// The fleet file's defaults (src/config/fleet-schema.ts), for callers without a pool.
const DEFAULT_TIMES: RunnerVmTimes = { idleTimeout: 600, maxLifetime: 6 * 3600 };

/** The JIT config size the config-time check assumes: generous, GitHub's are smaller. */
export const PLACEHOLDER_JIT_CONFIG_CHARS = 4096;

/**
 * The runner VM's user data for one job: the cloud-init bootstrap in cloud-init/, rendered
 * by src/runner-vm/. Only the JIT config (checked to be base64), the pool's watchdog times,
 * its runner tarball and its hooks reach the VM; no job field ever does.
 */
export function renderUserData(jitConfig: Secret, times: RunnerVmTimes = DEFAULT_TIMES): Secret {
  return renderRunnerVm(inputFor(jitConfig, times));
}

/**
 * How far a pool's user data is under EC2's limit (negative: over), with a placeholder JIT
 * config of PLACEHOLDER_JIT_CONFIG_CHARS: the fleet file is checked with it at load time.
 */
export function userDataHeadroom(pool: RunnerVmTimes): { bytes: number; headroom: number } {
  const placeholder = new Secret("A".repeat(PLACEHOLDER_JIT_CONFIG_CHARS));
  const bytes = userDataBytes(inputFor(placeholder, pool));
  return { bytes, headroom: USER_DATA_LIMIT_BYTES - bytes };
}

function inputFor(jitConfig: Secret, times: RunnerVmTimes): UserDataInput {
  return {
    jitConfig,
    idleTimeoutSeconds: times.idleTimeout,
    maxLifetimeSeconds: times.maxLifetime,
    ...(times.runner ? { runner: times.runner } : {}),
    ...(times.hooks ? { hooks: times.hooks } : {}),
    ...(times.operatorAccess === true ? { operatorAccess: true } : {}),
  };
}
