import type { UsageDimension, UsageQuery, UsageRow } from "../ledger/report-types.js";

/** The sums of a report's rows: the report's total. */
export function usageTotal(rows: readonly UsageRow[]): UsageRow {
  const sum = (pick: (r: UsageRow) => number) =>
    Math.round(rows.reduce((acc, r) => acc + pick(r), 0) * 10_000) / 10_000;
  return {
    key: {},
    vms: sum((r) => r.vms),
    jobs: sum((r) => r.jobs),
    instanceSeconds: sum((r) => r.instanceSeconds),
    jobSeconds: sum((r) => r.jobSeconds),
    wasteSeconds: sum((r) => r.wasteSeconds),
    estimatedCostUsd: sum((r) => r.estimatedCostUsd),
    hostedEquivalentUsd: sum((r) => r.hostedEquivalentUsd),
    unpricedVms: sum((r) => r.unpricedVms),
    interruptedVms: sum((r) => r.interruptedVms),
  };
}

/** A usage report as `/api/usage` and `mayfly usage --json` give it. */
export function usageDocument(query: UsageQuery, rows: readonly UsageRow[]) {
  const { key: _, ...total } = usageTotal(rows);
  return {
    since: query.since.toISOString(),
    until: query.until?.toISOString() ?? null,
    by: query.by,
    rows,
    total,
  };
}

const FIGURES: readonly [string, (r: UsageRow) => string][] = [
  ["vms", (r) => String(r.vms)],
  ["jobs", (r) => String(r.jobs)],
  ["vm_hours", (r) => (r.instanceSeconds / 3600).toFixed(2)],
  ["job_hours", (r) => (r.jobSeconds / 3600).toFixed(2)],
  ["waste_%", (r) => wastePercent(r)],
  ["ec2_usd", (r) => r.estimatedCostUsd.toFixed(2)],
  ["github_hosted_usd", (r) => r.hostedEquivalentUsd.toFixed(2)],
  ["interrupted", (r) => String(r.interruptedVms)],
];

/** A usage report as an aligned text table, with a total line. */
export function usageTable(rows: readonly UsageRow[], by: readonly UsageDimension[]): string {
  const header = [...by, ...FIGURES.map(([name]) => name)];
  const line = (r: UsageRow, label?: string) => [
    ...by.map((d, i) => (label !== undefined && i === 0 ? label : (r.key[d] ?? "") || "-")),
    ...FIGURES.map(([, show]) => show(r)),
  ];
  const total = usageTotal(rows);
  const body = [header, ...rows.map((r) => line(r)), line(total, "total")];
  if (by.length === 0) body[body.length - 1] = FIGURES.map(([, show]) => show(total));
  const widths = header.map((_, i) => Math.max(...body.map((cells) => (cells[i] ?? "").length)));
  const text = body.map((cells) =>
    cells
      .map((c, i) => (i < by.length ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
  const unpriced = total.unpricedVms;
  if (unpriced > 0) text.push(`(${unpriced} VMs of types without a price are not in ec2_usd)`);
  return text.join("\n");
}

/** A usage report as CSV (RFC 4180), one line per group, exact figures, no total line. */
export function usageCsv(rows: readonly UsageRow[], by: readonly UsageDimension[]): string {
  const header = [
    ...by,
    "vms",
    "jobs",
    "instance_seconds",
    "job_seconds",
    "waste_seconds",
    "estimated_cost_usd",
    "hosted_equivalent_usd",
    "unpriced_vms",
    "interrupted_vms",
  ];
  const lines = rows.map((r) =>
    [
      ...by.map((d) => r.key[d] ?? ""),
      r.vms,
      r.jobs,
      r.instanceSeconds,
      r.jobSeconds,
      r.wasteSeconds,
      r.estimatedCostUsd,
      r.hostedEquivalentUsd,
      r.unpricedVms,
      r.interruptedVms,
    ]
      .map((v) => csvField(String(v)))
      .join(","),
  );
  return [header.join(","), ...lines].join("\r\n");
}

function wastePercent(r: UsageRow): string {
  return r.instanceSeconds === 0 ? "-" : ((100 * r.wasteSeconds) / r.instanceSeconds).toFixed(0);
}

// A repository or workflow name may hold commas, quotes or a leading "=" (a spreadsheet
// formula); a leading TAB or CR is read as one too (OWASP, "CSV Injection").
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
