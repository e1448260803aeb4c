import { escapeHtml } from "./escape-html.js";

/** One coloured series of a chart, named in its legend. */
export interface Series {
  readonly name: string;
  readonly color: string;
}

/** What every chart carries: the `data-chart` name tests find it by, and its accessible label. */
export interface ChartIdentity {
  readonly kind: string;
  readonly label: string;
}

/** The width of every chart's drawing, in CSS pixels; it shrinks with the page. */
export const CHART_WIDTH = 600;

/** A coordinate to one decimal, so the markup stays short and stable. */
export function px(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** Wraps a chart's marks in an accessible, findable `<svg>`. */
export function svgChart(id: ChartIdentity, height: number, body: string): string {
  const label = escapeHtml(id.label);
  return (
    `<svg class="chart" data-chart="${escapeHtml(id.kind)}" role="img" aria-label="${label}" ` +
    `viewBox="0 0 ${CHART_WIDTH} ${px(height)}" width="${CHART_WIDTH}" height="${px(height)}">` +
    `<title>${label}</title>${body}</svg>`
  );
}

/** The chart's place when there is nothing to draw yet, saying so instead of an empty box. */
export function emptyChart(id: ChartIdentity): string {
  const label = escapeHtml(`${id.label}: no data yet`);
  return (
    `<svg class="chart chart-empty" data-chart="${escapeHtml(id.kind)}" data-empty="true" ` +
    `role="img" aria-label="${label}" viewBox="0 0 ${CHART_WIDTH} 64" width="${CHART_WIDTH}" ` +
    `height="64"><title>${label}</title>` +
    `<rect x="0.5" y="0.5" width="${CHART_WIDTH - 1}" height="63" rx="6" fill="#f6f8fa" ` +
    `stroke="#d0d7de" stroke-dasharray="4 4"/>` +
    `<text x="${CHART_WIDTH / 2}" y="37" text-anchor="middle" class="muted">no data yet</text></svg>`
  );
}

/** A row of colour swatches and names, drawn at the top of a chart. */
export function legend(series: readonly Series[], x: number, y: number): string {
  let offset = x;
  return series
    .map((s) => {
      const item =
        `<g class="legend-item"><rect x="${px(offset)}" y="${px(y - 9)}" width="10" height="10" ` +
        `rx="2" fill="${escapeHtml(s.color)}"/>` +
        `<text x="${px(offset + 15)}" y="${px(y)}">${escapeHtml(s.name)}</text></g>`;
      offset += 30 + s.name.length * 6.5;
      return item;
    })
    .join("");
}

/** Shortens a label that would overflow its column; the full text stays in a tooltip. */
export function clip(label: string, maxChars: number): string {
  return label.length <= maxChars ? label : `${label.slice(0, maxChars - 1)}…`;
}

/** A data mark: an SVG element whose `data-value` holds the number it draws. */
export function mark(
  tag: "rect" | "path",
  attributes: Record<string, string>,
  value: number,
  tooltip: string,
): string {
  const attrs = Object.entries(attributes)
    .map(([name, v]) => ` ${name}="${escapeHtml(v)}"`)
    .join("");
  return `<${tag}${attrs} data-value="${value}"><title>${escapeHtml(tooltip)}</title></${tag}>`;
}
