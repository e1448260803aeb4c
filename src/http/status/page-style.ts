/**
 * The page's only stylesheet, inline because the Content-Security-Policy allows
 * `style-src 'unsafe-inline'` and nothing external.
 */
export const PAGE_STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body {
  margin: 0; background: #f6f8fa; color: #1f2328;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header { background: #ffffff; border-bottom: 1px solid #d0d7de; }
.wrap { max-width: 1320px; margin: 0 auto; padding: 0 24px; }
header .wrap { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 24px; padding-top: 16px; padding-bottom: 16px; }
h1 { font-size: 20px; margin: 0; font-weight: 600; }
h1 .product { color: #59636e; font-weight: 400; }
h2 { font-size: 16px; margin: 0 0 4px; font-weight: 600; }
.meta { color: #59636e; font-size: 13px; }
.summary { display: flex; gap: 8px; margin-left: auto; flex-wrap: wrap; }
.pill { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 999px; padding: 2px 10px; font-size: 13px; }
.pill b { font-variant-numeric: tabular-nums; }
main.wrap { padding-top: 24px; padding-bottom: 40px; display: grid; gap: 20px;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 620px), 1fr)); }
section { background: #ffffff; border: 1px solid #d0d7de; border-radius: 8px; padding: 16px 20px 20px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
.sub { color: #59636e; font-size: 13px; margin: 0 0 12px; }
svg.chart { display: block; max-width: 100%; height: auto; overflow: visible; }
svg.chart text { font-size: 12px; fill: #1f2328; }
svg.chart text.muted { font-size: 14px; font-style: italic; fill: #59636e; }
svg.chart text.value, svg.chart text.tick { fill: #59636e; font-variant-numeric: tabular-nums; }
svg.chart text.on-bar { fill: #ffffff; font-size: 11px; font-weight: 600; }
svg.chart line.grid { stroke: #eaeef2; }
svg.chart line.axis { stroke: #8c959f; }
#jobs svg.chart { margin-bottom: 16px; }
.beside { display: flex; flex-wrap: wrap; gap: 16px 48px; align-items: flex-start; }
.beside dl.totals { flex-direction: column; margin: 8px 0 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; font-weight: 600; color: #59636e; border-bottom: 1px solid #d0d7de; padding: 6px 10px 6px 0; white-space: nowrap; }
td { border-bottom: 1px solid #eaeef2; padding: 7px 10px 7px 0; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.empty { color: #59636e; font-style: italic; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: nowrap; }
.dim { color: #59636e; font-size: 12px; }
.error { color: #cf222e; font-size: 12px; max-width: 32ch; overflow-wrap: anywhere; }
.state { display: inline-block; border-radius: 999px; padding: 0 8px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.state-waiting { background: #eaeef2; color: #424a53; }
.state-queued { background: #fff8c5; color: #7d4e00; }
.state-in_progress { background: #ddf4ff; color: #0550ae; }
.state-completed { background: #dafbe1; color: #116329; }
dl.totals { display: flex; flex-wrap: wrap; gap: 8px 32px; margin: 16px 0 0; }
dl.totals div { min-width: 120px; }
dl.totals dt { color: #59636e; font-size: 12px; }
dl.totals dd { margin: 0; font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
dl.totals .saved { color: #1a7f37; }
`;
