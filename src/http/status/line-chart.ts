import { escapeHtml } from "./escape-html.js";
import {
  CHART_WIDTH,
  type ChartIdentity,
  emptyChart,
  legend,
  mark,
  px,
  type Series,
  svgChart,
} from "./svg-chart.js";

/** One x position and the value of each series there, in series order. */
export interface LinePoint {
  readonly x: number;
  /** Names the point in tooltips, e.g. its hour. */
  readonly label: string;
  readonly values: readonly number[];
}

/** An axis tick: where it sits, and what it reads. */
export interface Tick {
  readonly value: number;
  readonly label: string;
}

/** A line chart with a marker at every point; `points` ascend by x. */
export interface LineChartSpec extends ChartIdentity {
  readonly series: readonly Series[];
  readonly points: readonly LinePoint[];
  readonly xDomain: readonly [number, number];
  readonly xTicks: readonly Tick[];
  /** Ascending from 0; the last tick is the top of the axis. */
  readonly yTicks: readonly Tick[];
  readonly formatValue: (value: number) => string;
  /** Points further apart than this are not joined: nothing was measured between them. */
  readonly maxGap?: number;
}

const HEIGHT = 250;
const LEFT = 64;
const RIGHT = 20;
const TOP = 32;
const BOTTOM = 28;

/** Draws `spec` as `<polyline>` series with `<path>` point marks, or "no data yet". */
export function lineChart(spec: LineChartSpec): string {
  if (spec.points.length === 0) return emptyChart(spec);
  const [x0, x1] = spec.xDomain;
  const yMax = Math.max(
    spec.yTicks[spec.yTicks.length - 1]?.value ?? 0,
    ...spec.points.flatMap((p) => p.values),
  );
  const sx = (x: number) => LEFT + ((x - x0) / (x1 - x0 || 1)) * (CHART_WIDTH - LEFT - RIGHT);
  const sy = (y: number) => HEIGHT - BOTTOM - (y / (yMax || 1)) * (HEIGHT - TOP - BOTTOM);
  const parts = [legend(spec.series, LEFT, 14), axes(spec, sx, sy)];
  spec.series.forEach((series, s) => {
    for (const run of runs(spec.points, spec.maxGap ?? Number.POSITIVE_INFINITY)) {
      if (run.length < 2) continue;
      const coords = run.map((p) => `${px(sx(p.x))},${px(sy(p.values[s] ?? 0))}`).join(" ");
      parts.push(
        `<polyline points="${coords}" fill="none" stroke="${escapeHtml(series.color)}" ` +
          `stroke-width="2" stroke-linejoin="round" data-series="${escapeHtml(series.name)}"/>`,
      );
    }
    for (const p of spec.points) {
      const value = p.values[s] ?? 0;
      const [cx, cy] = [sx(p.x), sy(value)];
      parts.push(
        mark(
          "path",
          {
            d: `M${px(cx - 3.5)},${px(cy)}a3.5,3.5 0 1,0 7,0a3.5,3.5 0 1,0 -7,0`,
            fill: "#ffffff",
            stroke: series.color,
            "stroke-width": "2",
            "data-series": series.name,
            "data-label": p.label,
          },
          value,
          `${p.label}, ${series.name}: ${spec.formatValue(value)}`,
        ),
      );
    }
  });
  return svgChart(spec, HEIGHT, parts.join(""));
}

function axes(spec: LineChartSpec, sx: (x: number) => number, sy: (y: number) => number): string {
  const right = CHART_WIDTH - RIGHT;
  const bottom = HEIGHT - BOTTOM;
  const yGrid = spec.yTicks.map((t) => {
    const y = px(sy(t.value));
    return (
      `<line x1="${LEFT}" x2="${right}" y1="${y}" y2="${y}" class="grid"/>` +
      `<text x="${LEFT - 8}" y="${px(sy(t.value) + 4)}" text-anchor="end" class="tick">` +
      `${escapeHtml(t.label)}</text>`
    );
  });
  const xLabels = spec.xTicks.map((t) => {
    const x = px(sx(t.value));
    return (
      `<line x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}" class="axis"/>` +
      `<text x="${x}" y="${bottom + 18}" text-anchor="middle" class="tick">` +
      `${escapeHtml(t.label)}</text>`
    );
  });
  const baseline = `<line x1="${LEFT}" x2="${right}" y1="${bottom}" y2="${bottom}" class="axis"/>`;
  return yGrid.join("") + baseline + xLabels.join("");
}

/** Splits points into runs whose neighbours are at most `maxGap` apart. */
function runs(points: readonly LinePoint[], maxGap: number): LinePoint[][] {
  const result: LinePoint[][] = [];
  let current: LinePoint[] = [];
  for (const p of points) {
    const last = current[current.length - 1];
    if (last && p.x - last.x > maxGap) {
      result.push(current);
      current = [];
    }
    current.push(p);
  }
  if (current.length > 0) result.push(current);
  return result;
}
