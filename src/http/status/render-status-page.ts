import { costSection, costTotals } from "./cost-section.js";
import { escapeHtml } from "./escape-html.js";
import { formatUsd, formatUtc } from "./format.js";
import { jobsSection } from "./jobs-section.js";
import { latencySection } from "./latency-section.js";
import { PAGE_STYLE } from "./page-style.js";
import type { StatusView } from "./status-view.js";
import { vmsSection } from "./vms-section.js";

/**
 * The status page at `/` as one self-contained HTML document: inline style and SVG, no
 * script and no external asset, so it renders offline and under
 * `default-src 'none'; style-src 'unsafe-inline'; img-src data:`.
 */
export function renderStatusPage(view: StatusView): string {
  const fleet = escapeHtml(view.fleet);
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta http-equiv="refresh" content="15">` +
    `<title>${fleet} · mayfly status</title><style>${PAGE_STYLE}</style></head>` +
    `<body>${header(view)}<main class="wrap">` +
    jobsSection(view) +
    latencySection(view) +
    vmsSection(view) +
    costSection(view) +
    `</main></body></html>\n`
  );
}

function header(view: StatusView): string {
  const live = view.jobsByState.waiting + view.jobsByState.queued + view.jobsByState.in_progress;
  const vms = view.vmsByPool.reduce((sum, p) => sum + p.launching + p.running + p.terminating, 0);
  const cost = costTotals(view).estimatedCostUsd;
  const generated = formatUtc(view.generatedAt);
  return (
    `<header><div class="wrap"><h1><span class="product">mayfly ·</span> ` +
    `${escapeHtml(view.fleet)}</h1>` +
    `<span class="meta">Generated <time datetime="${view.generatedAt.toISOString()}">` +
    `${generated}</time> · refreshes every 15 s</span>` +
    `<div class="summary"><span class="pill"><b>${live}</b> live jobs</span>` +
    `<span class="pill"><b>${vms}</b> VMs</span>` +
    `<span class="pill"><b>${formatUsd(cost)}</b> this month</span></div></div></header>`
  );
}
