import { spawnSync } from "node:child_process";

/**
 * Whether an external tool (shellcheck, cloud-init) is on PATH. Off CI a missing tool
 * skips its tests with a message; under CI=true the tests run and fail, because .ci/run
 * installs the tools.
 */
export function toolAvailable(name: string): boolean {
  const found = spawnSync("sh", ["-c", 'command -v "$1"', "sh", name]).status === 0;
  if (!found && process.env.CI !== "true")
    console.warn(`${name} is not installed: skipping its tests (apt-get install ${name})`);
  return found || process.env.CI === "true";
}
