import type { JobListing } from "../ledger/report-types.js";

/** Jobs as an aligned text table: state, wait and VM at a glance. */
export function jobsTable(jobs: readonly JobListing[]): string {
  if (jobs.length === 0) return "no jobs match";
  const header = [
    "job",
    "repository",
    "job name",
    "pool",
    "state",
    "queued",
    "waited",
    "vm",
    "type",
    "zone",
  ];
  const body = jobs.map((j) => [
    String(j.jobId),
    j.repository,
    j.jobName,
    j.pool ?? "-",
    stateCell(j),
    j.queuedAt === null ? "-" : j.queuedAt.toISOString().slice(0, 19).replace("T", " "),
    j.queueSeconds === null ? "-" : duration(j.queueSeconds),
    j.vm === null
      ? j.launchError === null
        ? "-"
        : `(failed: ${j.launchError})`
      : `${j.vm.instanceId ?? j.vm.runnerName} (${j.vm.state})`,
    j.vm?.instanceType ?? "-",
    j.vm?.availabilityZone ?? "-",
  ]);
  const rows = [header, ...body.map((r) => r.map(printable))];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * A repository, job name or launch error comes from webhooks and APIs: a control character
 * in it (an escape sequence, a carriage return) could rewrite what the terminal shows.
 */
function printable(cell: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
  return cell.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

function stateCell(j: JobListing): string {
  if (j.state === "completed") return `completed/${j.conclusion ?? "?"}`;
  return j.gaveUp === null ? j.state : `${j.state} (given up: ${j.gaveUp.words})`;
}

/** "42s", "3m 05s", "2h 10m". */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
