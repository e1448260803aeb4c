import { jobsTable } from "./jobs-table.js";
import { jobFilterFrom, type Params, usageQueryFrom } from "./report-request.js";
import type { ReportSource } from "./report-source.js";
import { usageCsv, usageDocument, usageTable } from "./usage-table.js";

export type ReportFormat = "table" | "json" | "csv";

/** `mayfly usage`: usage and cost grouped as asked, as a table, JSON or CSV. */
export async function usageReportText(
  source: ReportSource,
  params: Params,
  format: ReportFormat,
  now: Date,
): Promise<string> {
  // Checked here too, so a mistake is named before any request is made.
  const query = usageQueryFrom(params, now);
  const rows = await source.usage(params);
  if (format === "csv") return usageCsv(rows, query.by);
  if (format === "json") return JSON.stringify(usageDocument(query, rows), null, 2);
  const until = query.until === undefined ? "now" : query.until.toISOString().slice(0, 10);
  const title = `usage of VMs launched from ${query.since.toISOString().slice(0, 10)} to ${until} (UTC days)`;
  return `${title}\n\n${usageTable(rows, query.by)}`;
}

/** `mayfly jobs`: jobs with state, wait and VM, as a table or JSON. */
export async function jobsReportText(
  source: ReportSource,
  params: Params,
  format: Exclude<ReportFormat, "csv">,
  now: Date,
): Promise<string> {
  jobFilterFrom(params, now);
  const report = await source.jobs(params);
  return format === "json"
    ? JSON.stringify(report, null, 2)
    : jobsTable(report.jobs, report.repositoryLimits);
}
