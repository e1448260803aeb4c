import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freePort } from "../../src/bench/free-port.js";
import { needTool } from "./need-tool.js";

/**
 * Starts a throwaway PostgreSQL server on 127.0.0.1 for the ledger tests, and stops it.
 * Its URL reaches the tests as MAYFLY_TEST_DATABASE_URL; without server binaries the
 * PostgreSQL suites say so and skip, except under the test command (CI set), where that is
 * a failure.
 */
const BIN_DIRS = [
  "/usr/lib/postgresql/17/bin",
  "/usr/lib/postgresql/16/bin",
  "/usr/lib/postgresql/15/bin",
];

export default async function setup(project: TestProject): Promise<() => void> {
  const bin = BIN_DIRS.find((dir) => existsSync(join(dir, "initdb")));
  needTool({
    tool: `PostgreSQL server binaries (${BIN_DIRS.join(", ")})`,
    found: bin !== undefined,
    suite: "the PostgreSQL ledger suites",
    install: "apt-get install postgresql",
  });
  if (!bin) {
    project.provide("postgresUrl", "");
    return () => {};
  }
  const dir = mkdtempSync(join(tmpdir(), "mayfly-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? (["runuser", ["-u", "postgres", "--", cmd, ...args]] as const)
      : ([cmd, args] as const);
  if (asRoot) execFileSync("chown", ["postgres", dir]);
  const [initCmd, initArgs] = run(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "mayfly",
    "-A",
    "trust",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  execFileSync(initCmd, initArgs, { stdio: "ignore" });
  const port = await freePort();
  const options = `-h 127.0.0.1 -p ${port} -k ${dir} -F -c max_connections=200`;
  const pgCtl = (...args: string[]) => {
    const [cmd, argv] = run(join(bin, "pg_ctl"), ["-D", data, ...args]);
    execFileSync(cmd, argv, { stdio: "ignore" });
  };
  pgCtl("-o", options, "-l", join(dir, "server.log"), "-w", "start");
  project.provide("postgresUrl", `postgres://mayfly@127.0.0.1:${port}/postgres`);
  return () => {
    pgCtl("-m", "immediate", "-w", "stop");
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}
