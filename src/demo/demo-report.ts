import type { UsageRow } from "../ledger/report-types.js";
import { usageTable } from "../reports/usage-table.js";

/** Figures of one demo run, for the closing table. */
export interface DemoFigures {
  readonly jobs: number;
  readonly served: number;
  readonly cancelled: number;
  readonly unserved: number;
  readonly queuedToLaunch: readonly number[];
  readonly queuedToRunning: readonly number[];
  readonly githubCalls: number;
  readonly ec2Calls: number;
  readonly vmsLaunched: number;
  readonly vmsTerminated: number;
  readonly vmsLeft: number;
  readonly stolen: number;
  readonly webhooksSent: number;
  readonly seconds: number;
  readonly usage: readonly UsageRow[];
}

/** The p-th percentile (0..100) of values, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ] as number;
}

const seconds = (ms: number) => (Number.isNaN(ms) ? "-" : `${(ms / 1000).toFixed(2)} s`);

/** The table the demo prints at the end. */
export function demoReport(f: DemoFigures): string {
  const perJob = (n: number) => (f.jobs === 0 ? "-" : (n / f.jobs).toFixed(1));
  const rows: [string, string][] = [
    ["jobs", `${f.jobs} (${f.served} served, ${f.cancelled} cancelled, ${f.unserved} unserved)`],
    [
      "queued -> VM launched",
      `p50 ${seconds(percentile(f.queuedToLaunch, 50))}, p95 ${seconds(percentile(f.queuedToLaunch, 95))}`,
    ],
    [
      "queued -> running",
      `p50 ${seconds(percentile(f.queuedToRunning, 50))}, p95 ${seconds(percentile(f.queuedToRunning, 95))}`,
    ],
    ["GitHub calls per job", perJob(f.githubCalls)],
    ["EC2 calls per job", perJob(f.ec2Calls)],
    ["VMs", `${f.vmsLaunched} launched, ${f.vmsTerminated} terminated, ${f.vmsLeft} left running`],
    ["runners taken by another job", String(f.stolen)],
    ["webhooks sent", String(f.webhooksSent)],
    ["wall time", `${f.seconds.toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  lines.push("", "  usage by repository (mayfly usage --by repo)");
  for (const line of usageTable(f.usage, ["repo"]).split("\n")) lines.push(`  ${line}`);
  return lines.join("\n");
}
