import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { stringify } from "yaml";

/** Where the rendered cloud-config puts the boot script and its data files on the VM. */
export const BOOT_SCRIPT_PATH = "/usr/local/sbin/mayfly-boot";
export const STATE_DIR = "/run/mayfly";
export const ASSIGNMENT_URL_PATH = `${STATE_DIR}/assignment-url`;
export const BOOT_TIMEOUT_PATH = `${STATE_DIR}/boot-timeout`;
/** The operator's boot hook: root-only (0700), on the root file system. Not under /run:
 * the initramfs mounts /run noexec, so a hook there fails with 126 (FIELD-NOTES.md,
 * "Learned in 2026-12"). */
export const BOOT_HOOK_PATH = "/usr/local/lib/mayfly/boot-hook";
/** The runner's job hooks: outside the runner's directory, as GitHub asks, and readable by
 * the runner user without being writable by it. The runner runs them with `bash -e`, so
 * they must end in .sh:
 * https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/running-scripts-before-or-after-a-job */
export const JOB_STARTED_HOOK_PATH = "/usr/local/lib/mayfly/job-started.sh";
export const JOB_COMPLETED_HOOK_PATH = "/usr/local/lib/mayfly/job-completed.sh";

/** Operator scripts, each starting with an interpreter line. */
export type RunnerVmHooks = {
  readonly boot?: string | undefined;
  readonly jobStarted?: string | undefined;
  readonly jobCompleted?: string | undefined;
};

/** EC2 refuses user data over 16 KB, counted before base64 encoding:
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html */
export const USER_DATA_LIMIT_BYTES = 16384;

/**
 * What the runner VM boots with. None of it is a secret: EC2 shows user data to any principal
 * allowed `ec2:DescribeInstanceAttribute`, for the VM's life, so the VM asks the controller
 * for its JIT config instead (DESIGN.md, "Assignment").
 */
export type UserDataInput = {
  /** The controller's `POST /runner/v1/assignment` URL, where the VM asks for its JIT config. */
  readonly assignmentUrl: string;
  /** Seconds from the boot script's start within which the VM must get its assignment. */
  readonly bootTimeoutSeconds: number;
  readonly idleTimeoutSeconds: number;
  readonly maxLifetimeSeconds: number;
  /** For images without the runner in /opt/actions-runner. */
  readonly runner?: { readonly tarballUrl: string; readonly sha256: string };
  readonly hooks?: RunnerVmHooks | undefined;
  /** Keep the SSM agent and serial-console logins; by default the VM stops and masks them. */
  readonly operatorAccess?: boolean | undefined;
  /** Tests pass a different script (e.g. to probe the size limit); it is sent as text. */
  readonly bootScript?: string;
};

const SHA256 = /^[0-9a-f]{64}$/;
// A URL lands in a data file, never in shell code; the character set is still kept narrow
// so nothing surprising reaches curl.
const URL_CHARS = /^https?:\/\/[A-Za-z0-9._~:/?#[\]@!$&'()*+,;=%-]+$/;
// A lone surrogate has no UTF-8 form: such a hook could not reach the VM byte for byte.
const LONE_SURROGATE = /\p{Surrogate}/u;
// Text that the yaml package and PyYAML (cloud-init's parser) read alike in a block scalar.
// PyYAML also breaks lines at U+0085, U+2028 and U+2029 and folds CR LF, so a hook with
// those, or with any other control character, travels base64-encoded instead.
const PLAIN_TEXT = /^[\t\n\x20-\x7e\u00a0-\u2027\u202a-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]*$/u;

// src/runner-vm/ and dist/runner-vm/ are both two levels under the package root.
const BOOT_SCRIPT_FILE = fileURLToPath(new URL("../../cloud-init/mayfly-boot.sh", import.meta.url));

let cachedScript: string | undefined;
/**
 * The boot script as the VM gets it: without its comment lines and blank lines. The
 * comments are for readers of cloud-init/mayfly-boot.sh; on the VM they would take a
 * third of the 16 KB that the operator's hooks share with it. (The script has no
 * here-document, and no line of its one multi-line string, an awk program, is blank or
 * starts with #, so no line removed is data.)
 */
export function bootScript(): string {
  cachedScript ??= readFileSync(BOOT_SCRIPT_FILE, "utf8")
    .split("\n")
    .filter((line, index) => index === 0 || !/^\s*(#.*)?$/.test(line))
    .join("\n")
    .concat("\n");
  return cachedScript;
}

let cachedCompressed: string | undefined;
/**
 * The boot script gzipped and base64-encoded, as write_files' `gz+b64` takes it: 4 KB
 * instead of 8.5, room the operator's hooks can use under EC2's 16 KB. (Node's gzip
 * header has no timestamp, so the same script always renders the same bytes.)
 */
export function compressedBootScript(): string {
  cachedCompressed ??= gzipSync(bootScript(), { level: 9 }).toString("base64");
  return cachedCompressed;
}

/**
 * The runner VM's user data: a #cloud-config document that writes the boot script (root,
 * 0700), the operator's hooks and the script's inputs as root-only data files under /run
 * (tmpfs), then starts the script. Values and hooks travel as YAML data, serialized by the
 * yaml package, never spliced into shell code.
 * https://cloudinit.readthedocs.io/en/latest/reference/modules.html#write-files
 */
export function renderUserData(input: UserDataInput): string {
  const userData = renderText(input);
  const size = Buffer.byteLength(userData, "utf8");
  if (size > USER_DATA_LIMIT_BYTES)
    throw new RangeError(
      `the runner VM's user data is ${size} bytes, over EC2's ${USER_DATA_LIMIT_BYTES}-byte limit`,
    );
  return userData;
}

/** The size in bytes of the user data `renderUserData` would give, whether or not it fits. */
export function userDataBytes(input: UserDataInput): number {
  return Buffer.byteLength(renderText(input), "utf8");
}

function renderText(input: UserDataInput): string {
  checkAssignmentUrl(input.assignmentUrl);
  positiveInt("bootTimeoutSeconds", input.bootTimeoutSeconds);
  positiveInt("idleTimeoutSeconds", input.idleTimeoutSeconds);
  positiveInt("maxLifetimeSeconds", input.maxLifetimeSeconds);
  if (input.runner !== undefined) {
    let url: URL;
    try {
      url = new URL(input.runner.tarballUrl);
    } catch {
      throw new TypeError("the runner tarball URL is not a URL");
    }
    if (url.protocol !== "https:" || !URL_CHARS.test(input.runner.tarballUrl))
      throw new TypeError("the runner tarball URL must be a plain https URL");
    if (!SHA256.test(input.runner.sha256))
      throw new TypeError("the runner SHA-256 must be 64 lowercase hex digits");
  }
  const hooks = input.hooks ?? {};
  for (const [name, text] of Object.entries(hooks))
    if (text !== undefined && (!text.startsWith("#!") || LONE_SURROGATE.test(text)))
      throw new TypeError(`the ${name} hook must be text starting with an interpreter line (#!)`);

  const file = (path: string, permissions: string, content: string) => ({
    path,
    owner: "root:root",
    permissions,
    content,
  });
  const data = (name: string, content: string) => file(`${STATE_DIR}/${name}`, "0600", content);
  const hook = (path: string, permissions: string, content: string | undefined) => {
    if (content === undefined) return [];
    if (PLAIN_TEXT.test(content)) return [file(path, permissions, content)];
    const encoded = Buffer.from(content, "utf8").toString("base64");
    return [{ ...file(path, permissions, encoded), encoding: "b64" }];
  };
  const document = {
    write_files: [
      input.bootScript === undefined
        ? { ...file(BOOT_SCRIPT_PATH, "0700", compressedBootScript()), encoding: "gz+b64" }
        : file(BOOT_SCRIPT_PATH, "0700", input.bootScript),
      data("assignment-url", input.assignmentUrl),
      data("boot-timeout", String(input.bootTimeoutSeconds)),
      data("idle-timeout", String(input.idleTimeoutSeconds)),
      data("max-lifetime", String(input.maxLifetimeSeconds)),
      ...(input.runner === undefined
        ? []
        : [
            data("runner-url", input.runner.tarballUrl),
            data("runner-sha256", input.runner.sha256),
          ]),
      ...(input.operatorAccess === true ? [data("operator-access", "true")] : []),
      ...hook(BOOT_HOOK_PATH, "0700", hooks.boot),
      // 0755 root: the runner user runs them but cannot change them for a later step.
      ...hook(JOB_STARTED_HOOK_PATH, "0755", hooks.jobStarted),
      ...hook(JOB_COMPLETED_HOOK_PATH, "0755", hooks.jobCompleted),
    ],
    // systemd-run detaches the script from cloud-final so boot completes, and keeps its
    // output in the journal rather than the console log.
    runcmd: [["systemd-run", "--unit=mayfly-boot", "--collect", BOOT_SCRIPT_PATH]],
  };
  return `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
}

/**
 * An https URL, or http (a test's forwarded address; settings allow only https in
 * production), with no user name or password: user data holds no credential.
 */
function checkAssignmentUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError("the assignment URL is not a URL");
  }
  if (!["https:", "http:"].includes(url.protocol) || !URL_CHARS.test(text))
    throw new TypeError("the assignment URL must be a plain https or http URL");
  if (url.username !== "" || url.password !== "")
    throw new TypeError("the assignment URL must hold no user name or password");
}

function positiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new TypeError(`${name} must be a positive integer, got ${value}`);
}
