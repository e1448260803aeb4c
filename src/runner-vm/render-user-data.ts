import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { Secret } from "../config/secret.js";

/** Where the rendered cloud-config puts the boot script and its data files on the VM. */
export const BOOT_SCRIPT_PATH = "/usr/local/sbin/mayfly-boot";
export const STATE_DIR = "/run/mayfly";
export const JIT_CONFIG_PATH = `${STATE_DIR}/jitconfig`;

/** EC2 refuses user data over 16 KB, counted before base64 encoding:
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html */
export const USER_DATA_LIMIT_BYTES = 16384;

export type UserDataInput = {
  readonly jitConfig: Secret;
  readonly idleTimeoutSeconds: number;
  readonly maxLifetimeSeconds: number;
  /** For images without the runner in /opt/actions-runner. */
  readonly runner?: { readonly tarballUrl: string; readonly sha256: string };
  /** Tests pass a different script (e.g. to probe the size limit). */
  readonly bootScript?: string;
};

// A JIT config is base64; anything else is refused rather than sent to the VM.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SHA256 = /^[0-9a-f]{64}$/;
// The URL lands in a data file, never in shell code; the character set is still kept
// narrow so nothing surprising reaches curl.
const URL_CHARS = /^https:\/\/[A-Za-z0-9._~:/?#[\]@!$&'()*+,;=%-]+$/;

// src/runner-vm/ and dist/runner-vm/ are both two levels under the package root.
const BOOT_SCRIPT_FILE = fileURLToPath(new URL("../../cloud-init/mayfly-boot.sh", import.meta.url));

let cachedScript: string | undefined;
export function bootScript(): string {
  cachedScript ??= readFileSync(BOOT_SCRIPT_FILE, "utf8");
  return cachedScript;
}

/**
 * The runner VM's user data: a #cloud-config document that writes the boot script (root,
 * 0700) and its inputs as root-only data files under /run (tmpfs), then starts the script.
 * Values travel as YAML data, serialized by the yaml package, never spliced into shell
 * code. https://cloudinit.readthedocs.io/en/latest/reference/modules.html#write-files
 */
export function renderUserData(input: UserDataInput): Secret {
  const jitConfig = input.jitConfig.reveal();
  if (!BASE64.test(jitConfig)) throw new TypeError("the JIT config is not base64");
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

  const data = (name: string, content: string) => ({
    path: `${STATE_DIR}/${name}`,
    owner: "root:root",
    permissions: "0600",
    content,
  });
  const document = {
    write_files: [
      {
        path: BOOT_SCRIPT_PATH,
        owner: "root:root",
        permissions: "0700",
        content: input.bootScript ?? bootScript(),
      },
      data("jitconfig", jitConfig),
      data("idle-timeout", String(input.idleTimeoutSeconds)),
      data("max-lifetime", String(input.maxLifetimeSeconds)),
      ...(input.runner === undefined
        ? []
        : [
            data("runner-url", input.runner.tarballUrl),
            data("runner-sha256", input.runner.sha256),
          ]),
    ],
    // systemd-run detaches the script from cloud-final so boot completes, and keeps its
    // output in the journal rather than the console log.
    runcmd: [["systemd-run", "--unit=mayfly-boot", "--collect", BOOT_SCRIPT_PATH]],
  };
  const userData = `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
  const size = Buffer.byteLength(userData, "utf8");
  if (size > USER_DATA_LIMIT_BYTES)
    throw new RangeError(
      `the runner VM's user data is ${size} bytes, over EC2's ${USER_DATA_LIMIT_BYTES}-byte limit`,
    );
  return new Secret(userData);
}

function positiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new TypeError(`${name} must be a positive integer, got ${value}`);
}
