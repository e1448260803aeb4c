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
  /** Seconds the VM may take to get its assignment before powering off. */
  readonly bootTimeout: number;
  /** Seconds after which the VM powers off whatever it is doing. */
  readonly maxLifetime: number;
  /** The runner tarball for images without the runner preinstalled. */
  readonly runner?: { readonly tarballUrl: string; readonly sha256: string } | undefined;
  /** The pool's operator hooks. */
  readonly hooks?: RunnerVmHooks | undefined;
  /** Keep the image's operator access (SSM agent, serial console) on the VM. */
  readonly operatorAccess?: boolean | undefined;
};

/** The path of the assignment endpoint under the controller's runner endpoint (DESIGN.md). */
export const ASSIGNMENT_PATH = "/runner/v1/assignment";

/** The assignment URL length the config-time check assumes: generous, real ones are shorter. */
export const PLACEHOLDER_URL_CHARS = 512;

/**
 * The runner VM's user data for one job: the cloud-init bootstrap in cloud-init/, rendered
 * by src/runner-vm/. It holds no secret: the pool's watchdog times, its runner tarball, its
 * hooks and where the VM asks for its JIT config (`runnerEndpoint` + ASSIGNMENT_PATH). EC2
 * shows user data to any principal allowed ec2:DescribeInstanceAttribute, for the VM's life.
 */
export function renderUserData(runnerEndpoint: string, times: RunnerVmTimes): string {
  return renderRunnerVm(inputFor(`${runnerEndpoint}${ASSIGNMENT_PATH}`, times));
}

/**
 * How far a pool's user data is under EC2's limit (negative: over), with a placeholder
 * assignment URL of PLACEHOLDER_URL_CHARS: the fleet file is checked with it at load time.
 */
export function userDataHeadroom(pool: RunnerVmTimes): { bytes: number; headroom: number } {
  const placeholder = `https://${"a".repeat(PLACEHOLDER_URL_CHARS - 8 - ASSIGNMENT_PATH.length)}${ASSIGNMENT_PATH}`;
  const bytes = userDataBytes(inputFor(placeholder, pool));
  return { bytes, headroom: USER_DATA_LIMIT_BYTES - bytes };
}

function inputFor(assignmentUrl: string, times: RunnerVmTimes): UserDataInput {
  return {
    assignmentUrl,
    bootTimeoutSeconds: times.bootTimeout,
    idleTimeoutSeconds: times.idleTimeout,
    maxLifetimeSeconds: times.maxLifetime,
    ...(times.runner ? { runner: times.runner } : {}),
    ...(times.hooks ? { hooks: times.hooks } : {}),
    ...(times.operatorAccess === true ? { operatorAccess: true } : {}),
  };
}
