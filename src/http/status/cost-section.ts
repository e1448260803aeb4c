import { barChart } from "./bar-chart.js";
import { formatUsd, formatUtcMonth } from "./format.js";
import { PALETTE } from "./palette.js";
import type { StatusView } from "./status-view.js";

/** Sums of this month's cost rows, as the "Cost by repository" section totals them. */
export interface CostTotals {
  readonly vms: number;
  readonly estimatedCostUsd: number;
  readonly hostedEquivalentUsd: number;
}

/** Adds up the cost rows of `view`. */
export function costTotals(view: StatusView): CostTotals {
  return view.costByRepository.reduce(
    (sum, row) => ({
      vms: sum.vms + row.vms,
      estimatedCostUsd: sum.estimatedCostUsd + row.estimatedCostUsd,
      hostedEquivalentUsd: sum.hostedEquivalentUsd + row.hostedEquivalentUsd,
    }),
    { vms: 0, estimatedCostUsd: 0, hostedEquivalentUsd: 0 },
  );
}

/** "Cost by repository this month": our estimate beside the GitHub-hosted price, and totals. */
export function costSection(view: StatusView): string {
  const chart = barChart({
    kind: "cost-by-repository",
    label: "Estimated cost by repository this month, beside the GitHub-hosted equivalent",
    series: [
      { name: "mayfly, estimated", color: PALETTE.blue },
      { name: "GitHub-hosted equivalent", color: PALETTE.lightGray },
    ],
    rows: view.costByRepository.map((r) => ({
      label: r.repository || "(no repository)",
      values: [r.estimatedCostUsd, r.hostedEquivalentUsd],
    })),
    formatValue: formatUsd,
  });
  const t = costTotals(view);
  const saved = t.hostedEquivalentUsd - t.estimatedCostUsd;
  const totals =
    `<dl class="totals">` +
    `<div><dt>VMs</dt><dd data-total="vms">${t.vms}</dd></div>` +
    `<div><dt>Estimated cost</dt><dd data-total="estimated">${formatUsd(t.estimatedCostUsd)}</dd></div>` +
    `<div><dt>GitHub-hosted equivalent</dt>` +
    `<dd data-total="hosted">${formatUsd(t.hostedEquivalentUsd)}</dd></div>` +
    `<div><dt>${saved >= 0 ? "Saved" : "Extra"}</dt>` +
    `<dd data-total="saved" class="${saved >= 0 ? "saved" : ""}">${formatUsd(Math.abs(saved))}</dd></div>` +
    `</dl>`;
  return (
    `<section class="wide" id="cost"><h2>Cost by repository this month</h2>` +
    `<p class="sub">${formatUtcMonth(view.monthStart)}, since the 1st (UTC); ` +
    `estimated from VM hours.</p><div class="beside">${chart}${totals}</div></section>`
  );
}
