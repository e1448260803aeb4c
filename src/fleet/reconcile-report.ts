import { countsOf, type ReconcileReport } from "./reconciler.js";

/** A reconcile pass for people: how many actions of each kind, then each with its reason. */
export function formatReconcileReport(report: ReconcileReport): string {
  const verb = report.dryRun ? "would" : "did";
  const lines = [`reconcile${report.dryRun ? " (dry run)" : ""}: what the pass ${verb} do`];
  if (report.failed.length > 0)
    lines.push(`  failed phases: ${report.failed.join(", ")} (see the log; the others ran)`);
  const { plan } = report;
  if (plan === null) return [...lines, ...outcomeLines(report)].join("\n");
  for (const [kind, n] of Object.entries(countsOf(plan))) {
    lines.push(`  ${kind.padEnd(18)}${String(n).padStart(5)}`);
  }
  const detail = [
    ...plan.terminate.map((a) => `terminate ${a.instanceId}: ${a.reason} (${a.ageSeconds} s old)`),
    ...plan.recordTerminated.map((a) => `record ${a.instanceId} ended: ${a.reason}`),
    ...plan.abandonLaunch.map((a) => `abandon launch of job ${a.jobId ?? "-"}: ${a.reason}`),
    ...plan.deleteRunners.map((a) => `delete runner ${a.runnerName}: ${a.reason}`),
    ...plan.releaseSubnets.map((a) => `release ${a.subnetId}: ${a.reason}`),
    ...plan.giveUp.map((a) => `give up job ${a.jobId}: ${a.launchFailures} failed launches`),
  ];
  if (detail.length > 0) lines.push("", ...detail.map((d) => `  ${d}`));
  return [...lines, ...outcomeLines(report)].join("\n");
}

function outcomeLines(report: ReconcileReport): string[] {
  const lines: string[] = [];
  if (report.recovered !== null)
    lines.push(`  recovered ${report.recovered.recorded} missed deliveries`);
  if (!report.dryRun) lines.push(`  closed ${report.jobsClosed} jobs GitHub had finished`);
  return lines;
}
