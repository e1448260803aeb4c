import { parseDuration } from "../config/duration.js";
import { QueryError } from "../errors.js";
import {
  type JobFilter,
  type JobStateName,
  USAGE_DIMENSIONS,
  type UsageDimension,
  type UsageQuery,
} from "../ledger/report-types.js";

/** Parameters as the CLI flags and the API query string give them: text or absent. */
export type Params = Readonly<Record<string, string | undefined>>;

/** A query string's parameters; a repeated one is a mistake the caller is told of. */
export function paramsOf(query: unknown): Params {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (typeof value !== "string") throw new QueryError(`${key}: give it once, as text`);
    params[key] = value;
  }
  return params;
}

const JOB_STATES: readonly JobStateName[] = ["waiting", "queued", "in_progress", "completed"];
const LIVE: readonly JobStateName[] = ["waiting", "queued", "in_progress"];
const MAX_JOBS = 1000;

/**
 * A usage query: `since`/`until` as a date (2026-11-01), a duration back from now (30d) or
 * `month` (the first day of this month, UTC, the default); `by` as a comma list of
 * dimensions (default `repo`; `total` for one row).
 */
export function usageQueryFrom(params: Params, now: Date): UsageQuery {
  const since =
    params.since === undefined ? monthStart(now) : pointInTime("since", params.since, now);
  const until = params.until === undefined ? undefined : pointInTime("until", params.until, now);
  if (until !== undefined && until.getTime() <= since.getTime())
    throw new QueryError(`until (${day(until)}) must be after since (${day(since)})`);
  return { since, ...(until === undefined ? {} : { until }), by: dimensions(params.by ?? "repo") };
}

/** A job filter: `state` as a comma list (or `live`), `org`, `repo`, `pool`, `since`, `limit`. */
export function jobFilterFrom(params: Params, now: Date): JobFilter {
  const limit = params.limit === undefined ? 50 : Number(params.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_JOBS)
    throw new QueryError(
      `limit: expected a whole number from 1 to ${MAX_JOBS}, got "${params.limit}"`,
    );
  return {
    limit,
    ...(params.state === undefined ? {} : { states: states(params.state) }),
    ...(params.org === undefined ? {} : { org: params.org }),
    ...(params.repo === undefined ? {} : { repository: params.repo }),
    ...(params.pool === undefined ? {} : { pool: params.pool }),
    ...(params.since === undefined ? {} : { since: pointInTime("since", params.since, now) }),
  };
}

/** The first instant of the month `now` is in, UTC. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

function pointInTime(name: string, text: string, now: Date): Date {
  const value = text.trim();
  if (value === "month") return monthStart(now);
  const seconds = parseDuration(value);
  if (seconds !== undefined) return new Date(now.getTime() - seconds * 1000);
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/.test(value) && !Number.isNaN(Date.parse(value)))
    return new Date(value);
  throw new QueryError(
    `${name}: expected a date (2026-11-01), a duration back from now (30d, 12h) or "month", got "${text}"`,
  );
}

function dimensions(text: string): UsageDimension[] {
  if (text.trim() === "total") return [];
  const asked = text.split(",").map((d) => d.trim());
  const unknown = asked.filter((d) => !(USAGE_DIMENSIONS as readonly string[]).includes(d));
  if (unknown.length > 0 || asked.length === 0)
    throw new QueryError(
      `by: unknown dimension "${unknown.join(", ")}"; expected a comma list of ${USAGE_DIMENSIONS.join(", ")}, or total`,
    );
  return [...new Set(asked as UsageDimension[])];
}

function states(text: string): JobStateName[] {
  const asked: string[] = text
    .split(",")
    .flatMap((s) => (s.trim() === "live" ? [...LIVE] : [s.trim()]));
  const unknown = asked.filter((s) => !(JOB_STATES as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new QueryError(
      `state: unknown state "${unknown.join(", ")}"; expected ${JOB_STATES.join(", ")} or live`,
    );
  return [...new Set(asked as JobStateName[])];
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}
