import { barChart } from "./bar-chart.js";
import { escapeHtml } from "./escape-html.js";
import { formatDuration } from "./format.js";
import { PALETTE } from "./palette.js";
import type { JobListing, StatusView } from "./status-view.js";

const STATE_NAMES: Record<JobListing["state"], string> = {
  waiting: "waiting",
  queued: "queued",
  in_progress: "in progress",
  completed: "completed",
};

/** The "Jobs" section: live jobs by state as bars, then one table row per live job. */
export function jobsSection(view: StatusView): string {
  const { waiting, queued, in_progress } = view.jobsByState;
  const chart = barChart({
    kind: "jobs-by-state",
    label: "Live jobs by state",
    series: [{ name: "jobs", color: PALETTE.blue }],
    rows: [
      { label: "waiting", values: [waiting], color: PALETTE.gray },
      { label: "queued", values: [queued], color: PALETTE.amber },
      { label: "in progress", values: [in_progress], color: PALETTE.blue },
    ],
    formatValue: String,
    emptyWhenZero: true,
  });
  const rows =
    view.liveJobs.length === 0
      ? `<tr><td colspan="8" class="empty">No live jobs.</td></tr>`
      : view.liveJobs.map(jobRow).join("");
  return (
    `<section class="wide" id="jobs"><h2>Jobs</h2>` +
    `<p class="sub">Live jobs: waiting for a VM, queued on GitHub, or in progress.</p>` +
    `${chart}<div class="table-wrap"><table><thead><tr><th class="num">Job</th>` +
    `<th>Repository</th><th>Workflow / job</th><th>Pool</th><th>State</th>` +
    `<th class="num">Queued for</th><th>VM</th><th>Launch error</th></tr></thead>` +
    `<tbody>${rows}</tbody></table></div></section>`
  );
}

function jobRow(job: JobListing): string {
  const workflow = job.workflowName ? `<div class="dim">${escapeHtml(job.workflowName)}</div>` : "";
  const error = job.launchError ? escapeHtml(job.launchError) : "";
  // A given-up job stays queued on GitHub; mayfly launches nothing more for it.
  const givenUp = job.gaveUp === null ? "" : `<div class="dim given-up">given up</div>`;
  return (
    `<tr data-job-id="${job.jobId}"><td class="num"><code>${job.jobId}</code></td>` +
    `<td>${escapeHtml(job.repository)}</td>` +
    `<td>${workflow}${escapeHtml(job.jobName)}</td>` +
    `<td>${job.pool === null ? "–" : escapeHtml(job.pool)}</td>` +
    `<td><span class="state state-${job.state}">${STATE_NAMES[job.state]}</span>${givenUp}</td>` +
    `<td class="num">${formatDuration(job.queueSeconds)}</td>` +
    `<td>${vmCell(job.vm)}</td><td class="error">${error}</td></tr>`
  );
}

function vmCell(vm: JobListing["vm"]): string {
  if (vm === null) return "–";
  const name = vm.instanceId ?? vm.runnerName;
  const details = [vm.instanceType, vm.market, vm.availabilityZone, vm.state]
    .filter((d): d is string => d !== null)
    .map(escapeHtml)
    .join(" · ");
  return `<code>${escapeHtml(name)}</code><div class="dim">${details}</div>`;
}
