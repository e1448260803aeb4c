import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./free-port.js";

const BIN_DIRS = [
  "/usr/lib/postgresql/17/bin",
  "/usr/lib/postgresql/16/bin",
  "/usr/lib/postgresql/15/bin",
];

/** A throwaway PostgreSQL server on loopback, as the test suite starts one. */
export interface PostgresServer {
  readonly url: string;
  /** A new empty database on this server, so that no run sees another's rows; its URL. */
  freshDatabase(): Promise<string>;
  stop(): void;
}

/** Where the server binaries are, or undefined when none is installed. */
export function postgresBinDir(): string | undefined {
  return BIN_DIRS.find((dir) => existsSync(join(dir, "initdb")));
}

/**
 * initdb in a temp dir and pg_ctl start on 127.0.0.1 and a free port. initdb refuses to run
 * as root, so as root both run as the `postgres` user (runuser).
 */
export async function startPostgres(bin: string): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), "mayfly-bench-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    if (asRoot)
      execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { stdio: "ignore" });
    else execFileSync(cmd, args, { stdio: "ignore" });
  };
  if (asRoot) {
    chmodSync(dir, 0o755);
    execFileSync("chown", ["postgres", dir]);
  }
  run(join(bin, "initdb"), ["-D", data, "-U", "mayfly", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = `-h 127.0.0.1 -p ${port} -k ${dir} -F -c max_connections=200`;
  run(join(bin, "pg_ctl"), [
    "-D",
    data,
    "-o",
    options,
    "-l",
    join(dir, "server.log"),
    "-w",
    "start",
  ]);
  const url = `postgres://mayfly@127.0.0.1:${port}/postgres`;
  let databases = 0;
  return {
    url,
    async freshDatabase() {
      const name = `bench_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    stop() {
      try {
        run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
