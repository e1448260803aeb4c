import {
  type PoolShare,
  type RepositoryLimits,
  repositoryShares,
} from "../core/repository-share.js";
import { AuthError, LedgerError, QueryError } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import type { JobListing, UsageRow } from "../ledger/report-types.js";
import { jobFilterFrom, type Params, usageQueryFrom } from "./report-request.js";

/** Where `mayfly usage` and `mayfly jobs` read: the ledger itself, or a controller's admin API. */
export interface ReportSource {
  usage(params: Params): Promise<UsageRow[]>;
  jobs(params: Params): Promise<JobsReport>;
}

/** `mayfly jobs`' answer: the jobs, and each pool's per-repository cap when the fleet file is known. */
export interface JobsReport {
  readonly jobs: JobListing[];
  readonly repositoryLimits?: readonly PoolShare[];
}

/**
 * Reads the ledger directly (DATABASE_URL, or the embedded database when no controller has it
 * open); with the fleet file's caps, the jobs report says which jobs they hold back.
 */
export function ledgerSource(
  ledger: Ledger,
  now: () => Date,
  limits?: RepositoryLimits,
): ReportSource {
  return {
    usage: (params) => ledger.usageReport(usageQueryFrom(params, now())),
    jobs: (params) => {
      const at = now();
      return jobsReportOf(ledger, jobFilterFrom(params, at), at, limits);
    },
  };
}

/** The jobs a filter selects, with the pools' repository shares when `limits` are given. */
export async function jobsReportOf(
  ledger: Pick<Ledger, "listJobs" | "fleetCounts">,
  filter: Parameters<Ledger["listJobs"]>[0],
  now: Date,
  limits: RepositoryLimits | undefined,
): Promise<JobsReport> {
  const jobs = await ledger.listJobs(filter, now);
  if (limits === undefined) return { jobs };
  const { repositories } = await ledger.fleetCounts();
  return { jobs, repositoryLimits: repositoryShares(limits.pools, repositories, limits.caps) };
}

/** Asks a running controller's `/api` with the admin token. */
export function apiSource(
  baseUrl: string,
  token: string,
  fetcher: typeof fetch = fetch,
): ReportSource {
  const get = async (path: string, params: Params): Promise<unknown> => {
    const url = new URL(path, baseUrl);
    for (const [key, value] of Object.entries(params))
      if (value !== undefined) url.searchParams.set(key, value);
    let response: Response;
    try {
      response = await fetcher(url, { headers: { authorization: `Bearer ${token}` } });
    } catch (error) {
      throw new LedgerError(`cannot reach the controller at ${url.origin}`, { cause: error });
    }
    const body = (await response.json().catch(() => ({}))) as { message?: string };
    if (response.status === 401) throw new AuthError();
    if (response.status === 400)
      throw new QueryError(body.message ?? "the controller refused the query");
    if (!response.ok)
      throw new LedgerError(`the controller at ${url.origin} answered HTTP ${response.status}`);
    return body;
  };
  return {
    usage: async (params) => ((await get("/api/usage", params)) as { rows: UsageRow[] }).rows,
    jobs: async (params) => {
      const body = (await get("/api/jobs", params)) as JobsReport;
      return {
        jobs: body.jobs.map(withDates),
        ...(body.repositoryLimits === undefined ? {} : { repositoryLimits: body.repositoryLimits }),
      };
    },
  };
}

// JSON carries the dates as ISO strings.
function withDates(job: JobListing): JobListing {
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return {
    ...job,
    queuedAt: date(job.queuedAt),
    startedAt: date(job.startedAt),
    completedAt: date(job.completedAt),
  };
}
