import { describe, expect, it } from "vitest";
import { formatUsd } from "../../../src/http/status/format.js";
import { renderStatusPage } from "../../../src/http/status/render-status-page.js";
import { emptyView, SAMPLE_JOBS, SAMPLE_LATENCY, sampleView } from "./sample-view.js";

const CHARTS = ["jobs-by-state", "queue-latency", "vms-by-pool", "cost-by-repository"] as const;

/** The opening tag and content of the chart named `kind`; charts never nest. */
function chart(html: string, kind: string): { tag: string; body: string } {
  const found = new RegExp(`(<svg[^>]*data-chart="${kind}"[^>]*>)([\\s\\S]*?)</svg>`).exec(html);
  if (!found) throw new Error(`no chart ${kind}`);
  return { tag: found[1] ?? "", body: found[2] ?? "" };
}

interface Mark {
  tag: string;
  value: number;
  series: string | undefined;
  label: string | undefined;
}

function marks(html: string, kind: string): Mark[] {
  const tags = chart(html, kind).body.match(/<(rect|path|polyline)\b[^>]*\bdata-value="[^"]*"/g);
  return (tags ?? []).map((tag) => ({
    tag: /^<(\w+)/.exec(tag)?.[1] ?? "",
    value: Number(/data-value="([^"]*)"/.exec(tag)?.[1]),
    series: /data-series="([^"]*)"/.exec(tag)?.[1],
    label: /data-label="([^"]*)"/.exec(tag)?.[1],
  }));
}

function total(html: string, name: string): string | undefined {
  return new RegExp(`data-total="${name}"[^>]*>([^<]*)<`).exec(html)?.[1];
}

describe("renderStatusPage", () => {
  const html = renderStatusPage(sampleView());

  it("is a complete HTML5 document that refreshes itself", () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith("</html>")).toBe(true);
    expect(html).toContain('<meta http-equiv="refresh" content="15">');
    expect(html).toContain("<title>acme-ci · mayfly status</title>");
  });

  it("says when it was generated, in UTC, from the view and not the clock", () => {
    expect(html).toContain("2026-11-23 12:34:56 UTC");
    expect(renderStatusPage(sampleView())).toBe(html);
  });

  it("draws every chart as an accessible svg with a title", () => {
    for (const kind of CHARTS) {
      const { tag, body } = chart(html, kind);
      expect(tag).toContain('role="img"');
      expect(tag).toMatch(/aria-label="[^"]+"/);
      expect(tag).not.toContain("data-empty");
      expect(body.startsWith("<title>")).toBe(true);
    }
  });

  it("draws one bar per job state, holding its count", () => {
    const bars = marks(html, "jobs-by-state");
    expect(bars.map((m) => [m.tag, m.label, m.value])).toEqual([
      ["rect", "waiting", 2],
      ["rect", "queued", 1],
      ["rect", "in progress", 4],
    ]);
  });

  it("draws p50 and p95 at every hour that saw a job start, breaking the line at a gap", () => {
    const points = marks(html, "queue-latency");
    expect(points).toHaveLength(2 * SAMPLE_LATENCY.length);
    expect(points.filter((m) => m.series === "p50").map((m) => m.value)).toEqual(
      SAMPLE_LATENCY.map((p) => p.p50Seconds),
    );
    expect(points.filter((m) => m.series === "p95").map((m) => m.value)).toEqual(
      SAMPLE_LATENCY.map((p) => p.p95Seconds),
    );
    const lines = chart(html, "queue-latency").body.match(/<polyline\b/g) ?? [];
    expect(lines).toHaveLength(4);
  });

  it("labels the time axis every 6 hours and the seconds axis with a few round ticks", () => {
    const body = chart(html, "queue-latency").body;
    const ticks = [...body.matchAll(/class="tick">([^<]*)</g)].map((m) => m[1]);
    expect(ticks).toEqual(expect.arrayContaining(["00:00", "06:00", "12:00", "18:00"]));
    expect(ticks).toEqual(expect.arrayContaining(["0 s", "1 min", "4 min"]));
  });

  it("stacks the VMs of each pool: launching, running, terminating", () => {
    const segments = marks(html, "vms-by-pool");
    expect(segments).toHaveLength(9);
    expect(segments.filter((m) => m.label === "linux-x64").map((m) => [m.series, m.value])).toEqual(
      [
        ["launching", 1],
        ["running", 4],
        ["terminating", 1],
      ],
    );
  });

  it("puts each repository's estimated cost beside its GitHub-hosted equivalent", () => {
    const bars = marks(html, "cost-by-repository");
    const rows = sampleView().costByRepository;
    expect(bars).toHaveLength(2 * rows.length);
    expect(bars.map((m) => m.value)).toEqual(
      rows.flatMap((r) => [r.estimatedCostUsd, r.hostedEquivalentUsd]),
    );
    expect(chart(html, "cost-by-repository").body).toContain("$61.24");
  });

  it("totals the month's cost, to the cent, and what it saved", () => {
    const rows = sampleView().costByRepository;
    const estimated = rows.reduce((sum, r) => sum + r.estimatedCostUsd, 0);
    const hosted = rows.reduce((sum, r) => sum + r.hostedEquivalentUsd, 0);
    expect(total(html, "vms")).toBe("711");
    expect(total(html, "estimated")).toBe("$110.15");
    expect(total(html, "estimated")).toBe(formatUsd(estimated));
    expect(total(html, "hosted")).toBe("$303.36");
    expect(total(html, "saved")).toBe(formatUsd(hosted - estimated));
    expect(html).toContain("<b>7</b> live jobs");
    expect(html).toContain("<b>9</b> VMs");
  });

  it("lists every live job with its queue time, VM and launch error", () => {
    const rows = html.match(/<tr data-job-id="\d+">[\s\S]*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(SAMPLE_JOBS.length);
    expect(rows[0]).toContain("4 min");
    expect(rows[1]).toContain("InsufficientInstanceCapacity");
    expect(rows[2]).toContain("i-0a1b2c3d4e5f60718");
    expect(rows[2]).toContain("c7i.large · spot · eu-west-1a · running");
    expect(rows[3]).toContain("32 s");
  });

  it("shows that mayfly gave a live job up, and why", () => {
    const words = "gave up after 3 VMs that never ran the job";
    const page = renderStatusPage(
      sampleView({
        liveJobs: [
          {
            ...(SAMPLE_JOBS[0] as (typeof SAMPLE_JOBS)[number]),
            jobId: 77,
            state: "queued",
            launchError: words,
            gaveUp: { reason: "too-many-launches", words },
          },
        ],
      }),
    );
    const row = /<tr data-job-id="77">[\s\S]*?<\/tr>/.exec(page)?.[0] ?? "";
    expect(row).toContain("given up");
    expect(row).toContain(words);
  });

  it("escapes every string that came from GitHub users", () => {
    const hostile = "<script>alert(1)</script>";
    const quote = `x" onmouseover="alert('q')`;
    const page = renderStatusPage(
      sampleView({
        fleet: `fleet ${hostile}`,
        liveJobs: [
          {
            ...(SAMPLE_JOBS[0] as (typeof SAMPLE_JOBS)[number]),
            repository: hostile,
            workflowName: quote,
            jobName: `${hostile} & more`,
            pool: hostile,
            launchError: hostile,
          },
        ],
        vmsByPool: [{ pool: quote, launching: 1, running: 0, terminating: 0 }],
        costByRepository: [
          { repository: hostile, vms: 1, estimatedCostUsd: 1, hostedEquivalentUsd: 2 },
          { repository: quote, vms: 1, estimatedCostUsd: 1, hostedEquivalentUsd: 2 },
        ],
      }),
    );
    expect(page).not.toContain(hostile);
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/\son\w+="/);
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more");
    expect(page).toContain('data-label="x&quot; onmouseover=&quot;alert(&#39;q&#39;)"');
    expect(marks(page, "vms-by-pool")[0]?.label).toBe(
      "x&quot; onmouseover=&quot;alert(&#39;q&#39;)",
    );
  });

  it("says no data yet for each chart of a fleet that has just started", () => {
    const page = renderStatusPage(emptyView());
    for (const kind of CHARTS) {
      const { tag, body } = chart(page, kind);
      expect(tag).toContain('data-empty="true"');
      expect(body).toContain("no data yet");
      expect(marks(page, kind)).toEqual([]);
    }
    expect(page).toContain("No live jobs.");
    expect(total(page, "estimated")).toBe("$0.00");
  });

  it("shows a fleet with no live jobs but past latency, VMs and cost", () => {
    const page = renderStatusPage(
      sampleView({ jobsByState: { waiting: 0, queued: 0, in_progress: 0 }, liveJobs: [] }),
    );
    expect(chart(page, "jobs-by-state").tag).toContain('data-empty="true"');
    expect(chart(page, "queue-latency").tag).not.toContain("data-empty");
  });

  it("counts configured pools without VMs as no data yet", () => {
    const page = renderStatusPage(
      sampleView({ vmsByPool: [{ pool: "linux-x64", launching: 0, running: 0, terminating: 0 }] }),
    );
    expect(chart(page, "vms-by-pool").tag).toContain('data-empty="true"');
  });

  it("loads nothing from anywhere: no script, no external URL, no stylesheet link", () => {
    for (const page of [html, renderStatusPage(emptyView())]) {
      expect(page).not.toMatch(/<script/i);
      expect(page).not.toMatch(/\b(?:src|href)\s*=/i);
      expect(page).not.toMatch(/https?:\/\//i);
      expect(page).not.toMatch(/url\(|@import|<link\b|<iframe\b|<img\b/i);
    }
  });
});
