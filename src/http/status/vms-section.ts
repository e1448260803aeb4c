import { PALETTE } from "./palette.js";
import { stackedBarChart } from "./stacked-bar-chart.js";
import type { StatusView } from "./status-view.js";

/** "VMs by pool": the VMs not yet terminated, stacked launching, running, terminating. */
export function vmsSection(view: StatusView): string {
  const chart = stackedBarChart({
    kind: "vms-by-pool",
    label: "VMs by pool: launching, running and terminating",
    series: [
      { name: "launching", color: PALETTE.amber },
      { name: "running", color: PALETTE.green },
      { name: "terminating", color: PALETTE.gray },
    ],
    rows: view.vmsByPool.map((p) => ({
      label: p.pool,
      values: [p.launching, p.running, p.terminating],
    })),
    formatValue: String,
  });
  return (
    `<section id="vms"><h2>VMs by pool</h2>` +
    `<p class="sub">Every VM not yet terminated, one job each.</p>${chart}</section>`
  );
}
