import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { LedgerError } from "../errors.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { Database } from "./db-schema.js";
import type { Ledger } from "./ledger.js";
import { pglitePool } from "./pglite-pool.js";
import { SqlLedger } from "./sql-ledger.js";

/** Where the ledger lives: a PostgreSQL server URL, or a PGlite data dir (":memory:" for none). */
export type LedgerLocation = { readonly url: string } | { readonly dataDir: string };

const INT8 = 20;

/** Opens the ledger: a PostgreSQL server when a URL is given, embedded PGlite otherwise. */
export async function openLedger(location: LedgerLocation): Promise<Ledger> {
  if ("url" in location) {
    const pool = new pg.Pool({
      connectionString: location.url,
      max: 10,
      // Job IDs are int8; they stay far below 2^53, so numbers are exact.
      types: {
        getTypeParser: (oid, format) =>
          oid === INT8 ? Number : pg.types.getTypeParser(oid, format),
      },
    });
    pool.on("error", () => {
      // An idle client lost its server; the pool replaces it and the next query reports it.
    });
    return new SqlLedger(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
  }
  let db: PGlite;
  let unlock = () => {};
  try {
    if (location.dataDir === ":memory:") db = new PGlite();
    else {
      mkdirSync(location.dataDir, { recursive: true });
      unlock = lockDataDir(location.dataDir);
      db = new PGlite(location.dataDir);
    }
    await db.waitReady;
  } catch (error) {
    unlock();
    if (error instanceof LedgerError) throw error;
    throw new LedgerError(`cannot open the embedded database in ${location.dataDir}`, {
      cause: error,
    });
  }
  return new SqlLedger(
    new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(db, unlock) }) }),
    { embedded: true },
  );
}
