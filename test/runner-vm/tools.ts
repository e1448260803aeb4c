import { spawnSync } from "node:child_process";
import { needTool } from "../support/need-tool.js";

/**
 * Whether the tests of an external tool on PATH (shellcheck, cloud-init) run: off the test
 * command a missing tool skips them with a message; under it (CI set) it fails the file,
 * because the command installs the tools (see needTool).
 */
export function toolAvailable(name: string, suite: string): boolean {
  const found = spawnSync("sh", ["-c", 'command -v "$1"', "sh", name]).status === 0;
  return needTool({ tool: name, found, suite, install: `apt-get install ${name}` });
}
