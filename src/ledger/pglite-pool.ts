import type { PGlite } from "@electric-sql/pglite";
import type { PostgresPool, PostgresPoolClient } from "kysely";

/**
 * Presents one embedded PGlite database as a `pg`-style pool to Kysely's PostgresDialect.
 * PGlite is a single connection, so the pool hands it to one borrower at a time: a
 * transaction's statements never interleave with another's.
 */
export function pglitePool(db: PGlite, onEnd: () => void = () => {}): PostgresPool {
  let queue: Promise<void> = Promise.resolve();
  return {
    async connect(): Promise<PostgresPoolClient> {
      let release = () => {};
      const turn = new Promise<void>((resolve) => {
        release = resolve;
      });
      const previous = queue;
      queue = previous.then(() => turn);
      await previous;
      const client = {
        query: (text: string, parameters: readonly unknown[]) => db.query(text, [...parameters]),
        release,
      };
      return client as unknown as PostgresPoolClient;
    },
    async end() {
      try {
        await db.close();
      } finally {
        onEnd();
      }
    },
  };
}
