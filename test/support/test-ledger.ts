import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "../../src/ledger/db-schema.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { openLedger } from "../../src/ledger/open-ledger.js";
import { pglitePool } from "../../src/ledger/pglite-pool.js";
import { SqlLedger } from "../../src/ledger/sql-ledger.js";

export type LedgerKind = "pglite" | "postgresql";

export interface TestLedger {
  readonly ledger: Ledger;
  /** Raw SQL, to look at rows the port does not expose. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Empties every table between tests. */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

const TABLES = "usage, subnets, runners, deliveries, skipped_deliveries, jobs";

/** A migrated, empty ledger of the given kind: in-memory PGlite, or a new database on the test server. */
export async function testLedger(kind: LedgerKind, postgresUrl: string): Promise<TestLedger> {
  if (kind === "pglite") {
    const db = new PGlite();
    const ledger = new SqlLedger(
      new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(db) }) }),
    );
    await ledger.migrate();
    return {
      ledger,
      query: async (text, params) => (await db.query(text, params)).rows as never,
      truncate: async () => void (await db.exec(`truncate ${TABLES} cascade`)),
      close: () => ledger.close(),
    };
  }
  const name = `mayfly_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = postgresUrl.replace(/\/[^/]*$/, `/${name}`);
  const ledger = await openLedger({ url });
  await ledger.migrate();
  const raw = new pg.Pool({ connectionString: url, max: 2 });
  return {
    ledger,
    query: async (text, params) => (await raw.query(text, params)).rows,
    truncate: async () => void (await raw.query(`truncate ${TABLES} cascade`)),
    close: async () => {
      await raw.end();
      await ledger.close();
    },
  };
}

/**
 * `count` more ledgers on a PostgreSQL test ledger's database, each with its own connection
 * pool, as replicas of the controller have: races between them meet in the database.
 */
export async function replicaLedgers(
  t: TestLedger,
  postgresUrl: string,
  count: number,
): Promise<Ledger[]> {
  const [row] = await t.query<{ db: string }>("select current_database() as db");
  const url = postgresUrl.replace(/\/[^/]*$/, `/${row?.db}`);
  const replicas: Ledger[] = [];
  for (let i = 0; i < count; i++) replicas.push(await openLedger({ url }));
  await Promise.all(replicas.map((r) => r.ping()));
  return replicas;
}
