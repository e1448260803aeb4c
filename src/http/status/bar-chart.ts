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

/** One labelled group of bars: one value for each series of the chart, in order. */
export interface BarRow {
  readonly label: string;
  readonly values: readonly number[];
  /** Overrides the series colour, for a one-series chart whose rows mean different things. */
  readonly color?: string;
}

/** A horizontal bar chart; with several series, each row shows them side by side. */
export interface BarChartSpec extends ChartIdentity {
  readonly series: readonly Series[];
  readonly rows: readonly BarRow[];
  readonly formatValue: (value: number) => string;
  /** Treats rows whose values are all zero as no data. */
  readonly emptyWhenZero?: boolean;
}

const LABEL_WIDTH = 180;
const VALUE_ROOM = 84;
const BAR_HEIGHT = 18;
const BAR_GAP = 3;
const ROW_GAP = 14;

/** Draws `spec` as an `<svg>` of `<rect>` marks, or the "no data yet" placeholder. */
export function barChart(spec: BarChartSpec): string {
  const allZero = spec.rows.every((row) => row.values.every((v) => v === 0));
  if (spec.rows.length === 0 || (spec.emptyWhenZero && allZero)) return emptyChart(spec);
  const max = Math.max(...spec.rows.flatMap((row) => row.values), 0);
  const scale = (CHART_WIDTH - LABEL_WIDTH - VALUE_ROOM) / (max || 1);
  const top = spec.series.length > 1 ? 30 : 6;
  const groupHeight = spec.series.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
  const parts: string[] = [spec.series.length > 1 ? legend(spec.series, LABEL_WIDTH, 14) : ""];
  spec.rows.forEach((row, r) => {
    const y0 = top + r * (groupHeight + ROW_GAP);
    parts.push(
      `<text x="${LABEL_WIDTH - 10}" y="${px(y0 + groupHeight / 2 + 4)}" text-anchor="end">` +
        `<title>${escapeHtml(row.label)}</title>${escapeHtml(clip(row.label, 28))}</text>`,
    );
    spec.series.forEach((series, s) => {
      const value = row.values[s] ?? 0;
      const y = y0 + s * (BAR_HEIGHT + BAR_GAP);
      const width = value > 0 ? Math.max(value * scale, 2) : 0;
      const shown = spec.formatValue(value);
      parts.push(
        mark(
          "rect",
          {
            x: String(LABEL_WIDTH),
            y: px(y),
            width: px(width),
            height: String(BAR_HEIGHT),
            rx: "3",
            fill: row.color ?? series.color,
            "data-series": series.name,
            "data-label": row.label,
          },
          value,
          `${row.label}, ${series.name}: ${shown}`,
        ),
        `<text x="${px(LABEL_WIDTH + width + 6)}" y="${px(y + BAR_HEIGHT / 2 + 4)}" ` +
          `class="value">${escapeHtml(shown)}</text>`,
      );
    });
  });
  const height = top + spec.rows.length * (groupHeight + ROW_GAP) - ROW_GAP + 6;
  return svgChart(spec, height, parts.join(""));
}
