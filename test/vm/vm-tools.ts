import { spawnSync } from "node:child_process";

/** The host tools the VM suite runs (Debian packages in parentheses). */
export const VM_TOOLS = {
  "qemu-system-x86_64": "qemu-system-x86",
  mmdebstrap: "mmdebstrap",
  genisoimage: "genisoimage",
  mke2fs: "e2fsprogs",
  journalctl: "systemd",
  openssl: "openssl",
  mount: "mount",
} as const;

/**
 * The missing tools, as "name (apt-get install package)". Where tools are required
 * (test/support/need-tool.ts: CI set and not empty) a missing tool fails the suite, since CI installs them; elsewhere the suite is skipped
 * with this message. The suite also needs root: mmdebstrap and the loop mount do.
 */
export function missingVmTools(): string[] {
  const missing: string[] = Object.entries(VM_TOOLS)
    .filter(([name]) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", name]).status !== 0)
    .map(([name, pkg]) => `${name} (apt-get install ${pkg})`);
  if (process.getuid?.() !== 0) missing.push("root (mmdebstrap and the loop mount need it)");
  return missing;
}
