import { atRepositoryLimit, type PoolShare } from "../core/repository-share.js";
import type { JobListing } from "../ledger/report-types.js";

/**
 * Jobs as an aligned text table: state, wait and VM at a glance. With the pools'
 * per-repository caps, a queued job its repository's cap holds back says so, and a line
 * under the table sums up each pool's cap and its repositories' runners.
 */
export function jobsTable(jobs: readonly JobListing[], limits: readonly PoolShare[] = []): string {
  const summary = limitsLine(limits);
  const table = jobs.length === 0 ? "no jobs match" : tableOf(jobs, limits);
  return summary === undefined ? table : `${table}\n\n${summary}`;
}

function tableOf(jobs: readonly JobListing[], limits: readonly PoolShare[]): string {
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
    stateCell(j, limits),
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

function stateCell(j: JobListing, limits: readonly PoolShare[]): string {
  if (j.state === "completed") return `completed/${j.conclusion ?? "?"}`;
  if (j.gaveUp !== null) return `${j.state} (given up: ${j.gaveUp.words})`;
  const share = limits.find((l) => l.pool === j.pool);
  const waiting = j.vm === null || j.vm.state === "terminated";
  if (j.state === "queued" && waiting && atRepositoryLimit(share, j.repository)) {
    const runners = share?.repositories.find((r) => r.repository === j.repository)?.runners;
    return `queued (held: ${j.repository} at ${runners}/${share?.limit} runners, maxRunnersPerRepository)`;
  }
  return j.state;
}

/** "maxRunnersPerRepository: linux 4 (acme/api 4/4, 16 held; acme/web 1/4); arm none". */
function limitsLine(limits: readonly PoolShare[]): string | undefined {
  if (!limits.some((l) => l.limit !== null)) return undefined;
  const pools = limits.map((l) => {
    if (l.limit === null) return `${l.pool} none`;
    const repos = l.repositories.map(
      (r) => `${r.repository} ${r.runners}/${l.limit}${r.held > 0 ? `, ${r.held} held` : ""}`,
    );
    return repos.length === 0
      ? `${l.pool} ${l.limit}`
      : `${l.pool} ${l.limit} (${repos.join("; ")})`;
  });
  return printable(`maxRunnersPerRepository: ${pools.join("; ")}`);
}

/** "42s", "3m 05s", "2h 10m". */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
