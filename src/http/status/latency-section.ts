import { escapeHtml } from "./escape-html.js";
import { formatDuration, formatUtcClock } from "./format.js";
import { lineChart, type Tick } from "./line-chart.js";
import { niceTicks } from "./nice-ticks.js";
import { PALETTE } from "./palette.js";
import type { StatusView } from "./status-view.js";

const HOUR_MS = 3_600_000;
const DURATION_STEPS = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 21_600];

/** "Queue latency, last 24 h": p50 and p95 of queued-to-started, an hour a point. */
export function latencySection(view: StatusView): string {
  const end = view.generatedAt.getTime();
  const first = view.queueLatency[0]?.hour.getTime() ?? end;
  const start = Math.min(end - 24 * HOUR_MS, first);
  const max = Math.max(0, ...view.queueLatency.map((p) => Math.max(p.p95Seconds, p.p50Seconds)));
  const yTicks = niceTicks(max, DURATION_STEPS).map((value) => ({
    value,
    label: formatDuration(value),
  }));
  const chart = lineChart({
    kind: "queue-latency",
    label: "Queue latency over the last 24 hours, p50 and p95",
    series: [
      { name: "p50", color: PALETTE.blue },
      { name: "p95", color: PALETTE.orange },
    ],
    points: view.queueLatency.map((p) => ({
      x: p.hour.getTime(),
      label: `${formatUtcClock(p.hour)} UTC, ${p.jobs} ${p.jobs === 1 ? "job" : "jobs"}`,
      values: [p.p50Seconds, p.p95Seconds],
    })),
    xDomain: [start, end],
    xTicks: hourTicks(start, end),
    yTicks,
    formatValue: formatDuration,
    maxGap: HOUR_MS,
  });
  const started = view.queueLatency.reduce((sum, p) => sum + p.jobs, 0);
  return (
    `<section id="queue-latency"><h2>Queue latency, last 24 h</h2>` +
    `<p class="sub">From queued to started, for the jobs that started in each hour (UTC); ` +
    `${escapeHtml(String(started))} started in all.</p>${chart}</section>`
  );
}

/** A tick every 6 hours on the UTC clock, inside [start, end]. */
function hourTicks(start: number, end: number): Tick[] {
  const step = 6 * HOUR_MS;
  const ticks: Tick[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
    ticks.push({ value: t, label: formatUtcClock(new Date(t)) });
  }
  return ticks;
}
