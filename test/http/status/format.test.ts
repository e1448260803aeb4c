import { describe, expect, it } from "vitest";
import { escapeHtml } from "../../../src/http/status/escape-html.js";
import { formatDuration, formatUsd, formatUtc } from "../../../src/http/status/format.js";
import { niceTicks } from "../../../src/http/status/nice-ticks.js";

describe("status page formats", () => {
  it("says a wait as people say it", () => {
    expect([0, 42, 59.6, 60, 185, 3599, 3600, 7500].map(formatDuration)).toEqual([
      "0 s",
      "42 s",
      "1 min",
      "1 min",
      "3 min",
      "59 min",
      "1 h",
      "2 h 5 min",
    ]);
    expect(formatDuration(null)).toBe("–");
  });

  it("writes dollars to the cent", () => {
    expect([0, 0.005, 12.3456, 1234.5].map(formatUsd)).toEqual([
      "$0.00",
      "$0.01",
      "$12.35",
      "$1,234.50",
    ]);
  });

  it("writes times in UTC", () => {
    expect(formatUtc(new Date("2026-11-23T12:34:56.789Z"))).toBe("2026-11-23 12:34:56 UTC");
  });

  it("escapes the five characters HTML gives meaning to", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
  });

  it("picks round axis ticks that reach the maximum", () => {
    expect(niceTicks(0, [5, 10])).toEqual([0, 5]);
    expect(niceTicks(229, [5, 10, 30, 60, 120])).toEqual([0, 60, 120, 180, 240]);
    expect(niceTicks(1000, [5, 10])).toHaveLength(101);
  });
});
