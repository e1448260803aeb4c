import type { BarRow } from "./bar-chart.js";
import { escapeHtml } from "./escape-html.js";
import {
  CHART_WIDTH,
  type ChartIdentity,
  clip,
  emptyChart,
  legend,
  mark,
  px,
  type Series,
  svgChart,
} from "./svg-chart.js";

/** A horizontal bar per row, its series stacked left to right, the total at its end. */
export interface StackedBarChartSpec extends ChartIdentity {
  readonly series: readonly Series[];
  readonly rows: readonly BarRow[];
  readonly formatValue: (value: number) => string;
}

const LABEL_WIDTH = 180;
const TOTAL_ROOM = 60;
const BAR_HEIGHT = 22;
const ROW_GAP = 12;
const TOP = 30;

/** Draws `spec` as an `<svg>` of stacked `<rect>` marks, or the "no data yet" placeholder. */
export function stackedBarChart(spec: StackedBarChartSpec): string {
  const totals = spec.rows.map((row) => row.values.reduce((sum, v) => sum + v, 0));
  // Pools are listed even without VMs; a chart of zeros is still "no data yet".
  if (totals.every((t) => t === 0)) return emptyChart(spec);
  const scale = (CHART_WIDTH - LABEL_WIDTH - TOTAL_ROOM) / (Math.max(...totals) || 1);
  const parts: string[] = [legend(spec.series, LABEL_WIDTH, 14)];
  spec.rows.forEach((row, r) => {
    const y = TOP + r * (BAR_HEIGHT + ROW_GAP);
    const middle = px(y + BAR_HEIGHT / 2 + 4);
    parts.push(
      `<text x="${LABEL_WIDTH - 10}" y="${middle}" text-anchor="end">` +
        `<title>${escapeHtml(row.label)}</title>${escapeHtml(clip(row.label, 28))}</text>`,
    );
    let x = LABEL_WIDTH;
    spec.series.forEach((series, s) => {
      const value = row.values[s] ?? 0;
      const width = Math.max(value * scale, 0);
      parts.push(
        mark(
          "rect",
          {
            x: px(x),
            y: String(y),
            width: px(width),
            height: String(BAR_HEIGHT),
            fill: series.color,
            "data-series": series.name,
            "data-label": row.label,
          },
          value,
          `${row.label}, ${series.name}: ${spec.formatValue(value)}`,
        ),
      );
      if (width >= 18) {
        parts.push(
          `<text x="${px(x + width / 2)}" y="${middle}" text-anchor="middle" class="on-bar">` +
            `${escapeHtml(spec.formatValue(value))}</text>`,
        );
      }
      x += width;
    });
    const total = spec.formatValue(totals[r] ?? 0);
    parts.push(`<text x="${px(x + 6)}" y="${middle}" class="value">${escapeHtml(total)}</text>`);
  });
  const height = TOP + spec.rows.length * (BAR_HEIGHT + ROW_GAP) - ROW_GAP + 6;
  return svgChart(spec, height, parts.join(""));
}
