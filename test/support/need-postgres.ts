import { inject } from "vitest";
import { needTool } from "./need-tool.js";

const TOOL = "PostgreSQL server binaries (initdb in /usr/lib/postgresql/{15,16,17}/bin)";

/** The test PostgreSQL server, or why there is none. */
export interface TestPostgres {
  /** Its URL (test/support/postgres-server.ts starts it); "" when this machine has none. */
  readonly url: string;
  /** Why a suite that needs it skips: for `ctx.skip(why)`. */
  readonly why: string;
  /** A suite's title, saying why it skips when there is no server. */
  title(title: string): string;
}

/**
 * The test PostgreSQL server for a suite. Without one the suite skips and says why (in its
 * title or skip note, and once on the console); under CI (any non-empty value) its file fails
 * instead, as with every other tool (see needTool).
 */
export function needPostgres(suite: string): TestPostgres {
  const url = inject("postgresUrl") ?? "";
  needTool({ tool: TOOL, found: url !== "", suite, install: "apt-get install postgresql" });
  const why = `PostgreSQL not found: ${TOOL}`;
  return { url, why, title: (title) => (url !== "" ? title : `${title} (skipped: ${why})`) };
}
