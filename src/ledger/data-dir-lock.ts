import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { LedgerError } from "../errors.js";

/**
 * The embedded database is one process's: PGlite opens a data dir that another process has
 * open without complaint, and two writers would corrupt it. A lock file holding the owner's
 * PID guards the dir; one left by a process that has died is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, "mayfly.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(path, "utf8").trim());
      if (isAlive(owner))
        throw new LedgerError(
          `the embedded database in ${dataDir} is open in process ${owner}: stop it, or ask it with --url`,
        );
      rmSync(path, { force: true });
    }
  }
  throw new LedgerError(`cannot lock the embedded database in ${dataDir}`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
