import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { deepFreeze } from "./deep-freeze.js";
import { type FleetConfig, fleetSchema } from "./fleet-schema.js";

/** Reads, parses and validates a fleet YAML file; every problem names file, line and field. */
export function loadFleetFile(path: string): FleetConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError([`${path}: cannot read the fleet file (${reason})`], { cause: error });
  }
  return parseFleet(text, path);
}

/** Parses and validates fleet YAML text; `source` names it in error messages. */
export function parseFleet(text: string, source: string): FleetConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${source}${pos ? `:${pos.line}:${pos.col}` : ""}: not valid YAML: ${e.message.split("\n")[0]}`;
      }),
    );
  }
  const result = fleetSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => describeIssue(i, doc, lineCounter, source)),
    );
  }
  return deepFreeze(result.data);
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  source: string,
): string {
  const path = issue.path as (string | number)[];
  const field = formatPath(path);
  // Point at the deepest node that exists: a missing field is reported at its parent.
  let where = "";
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number] } | undefined;
    if (node?.range) {
      const pos = lineCounter.linePos(node.range[0]);
      where = `:${pos.line}:${pos.col}`;
      break;
    }
  }
  return `${source}${where}: ${field || "(top level)"}: ${issue.message}`;
}

function formatPath(path: (string | number)[]): string {
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join("");
}
