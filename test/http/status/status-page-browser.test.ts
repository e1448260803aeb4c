import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderStatusPage } from "../../../src/http/status/render-status-page.js";
import type { StatusView } from "../../../src/http/status/status-view.js";
import {
  chromiumFor,
  launchBrowser,
  saveScreenshot,
  type TestBrowser,
} from "../../support/browser.js";
import { emptyView, SAMPLE_JOBS, SAMPLE_LATENCY, sampleView } from "./sample-view.js";

/** The policy the controller serves `/` under; any violation shows as a console error. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
const HOSTILE = "<script>alert(1)</script>";

const PAGES: Record<string, StatusView> = {
  "/": sampleView(),
  "/empty": emptyView(),
  "/hostile": sampleView({
    fleet: `fleet ${HOSTILE}`,
    costByRepository: [
      { repository: HOSTILE, vms: 3, estimatedCostUsd: 1.5, hostedEquivalentUsd: 4 },
      {
        repository: `x" onmouseover="alert(2)`,
        vms: 1,
        estimatedCostUsd: 1,
        hostedEquivalentUsd: 2,
      },
    ],
  }),
};

const EXPECTED_MARKS = {
  "jobs-by-state": 3,
  "queue-latency": 2 * SAMPLE_LATENCY.length,
  "vms-by-pool": 9,
  "cost-by-repository": 8,
} as const;

function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const view = PAGES[req.url ?? ""];
    if (!view) {
      res.writeHead(404, { "content-security-policy": CSP }).end();
      return;
    }
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": CSP,
    });
    res.end(renderStatusPage(view));
  });
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done(server)));
}

const withChromium = chromiumFor(
  "the status page browser tests (test/http/status/status-page-browser.test.ts)",
);

describe.runIf(withChromium)("the status page in Chromium", () => {
  let server: Server;
  let browser: TestBrowser;
  let base: string;

  beforeAll(async () => {
    server = await serve();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => server?.close(done));
  });

  it("draws the four charts, each with a mark per value, laid out at a visible size", async ({
    annotate,
  }) => {
    const { page, response, consoleErrors, requests } = await browser.openPage(`${base}/`);
    expect(response?.status()).toBe(200);
    for (const [kind, count] of Object.entries(EXPECTED_MARKS)) {
      const chart = `svg[data-chart="${kind}"]`;
      const values = await page.$$eval(`${chart} [data-value]`, (marks) =>
        marks.map((m) => Number(m.getAttribute("data-value"))),
      );
      expect(values, kind).toHaveLength(count);
      expect(
        values.some((v) => v > 0),
        kind,
      ).toBe(true);
      const box = await page.locator(chart).boundingBox();
      expect(box?.width, kind).toBeGreaterThan(300);
      expect(box?.height, kind).toBeGreaterThan(40);
    }
    const widths = await page.$$eval(
      'svg[data-chart="cost-by-repository"] rect[data-value]',
      (bars) => bars.map((b) => b.getBoundingClientRect().width),
    );
    expect(widths.every((w) => w > 0)).toBe(true);
    const rows = await page.$$eval("tr[data-job-id]", (trs) => trs.length);
    expect(rows).toBe(SAMPLE_JOBS.length);
    const path = await saveScreenshot(page, "status-page");
    await annotate(`screenshot: ${path}`, { path, contentType: "image/png" });
    expect(consoleErrors).toEqual([]);
    expect(requests.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
  });

  it("says no data yet in place of each chart of a fleet that has just started", async ({
    annotate,
  }) => {
    const { page, consoleErrors, requests } = await browser.openPage(`${base}/empty`);
    const empty = await page.$$eval('svg[data-empty="true"]', (charts) =>
      charts.map((c) => [c.getAttribute("data-chart"), c.textContent?.includes("no data yet")]),
    );
    expect(empty).toEqual(Object.keys(EXPECTED_MARKS).map((kind) => [kind, true]));
    expect(await page.locator('svg[data-chart="vms-by-pool"]').boundingBox()).toMatchObject({
      height: expect.any(Number),
    });
    const path = await saveScreenshot(page, "status-page-empty");
    await annotate(`screenshot: ${path}`, { path, contentType: "image/png" });
    expect(consoleErrors).toEqual([]);
    expect(requests.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
  });

  it("shows hostile repository names as text, running nothing", async () => {
    const { page, consoleErrors } = await browser.openPage(`${base}/hostile`);
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.hover('svg[data-chart="cost-by-repository"] rect[data-value]');
    expect(await page.locator("script").count()).toBe(0);
    expect(await page.locator("h1").textContent()).toContain(HOSTILE);
    const labels = await page.$$eval('svg[data-chart="cost-by-repository"] [data-label]', (m) =>
      m.map((e) => e.getAttribute("data-label")),
    );
    expect(labels).toContain(HOSTILE);
    expect(labels).toContain(`x" onmouseover="alert(2)`);
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it("sends the headers it is given, as a bearer token reaches the controller", async () => {
    let seen: string | undefined;
    const echo = createServer((req, res) => {
      seen = req.headers.authorization;
      res.writeHead(200, { "content-type": "text/html" }).end("<p>ok</p>");
    });
    await new Promise<void>((done) => echo.listen(0, "127.0.0.1", done));
    try {
      const port = (echo.address() as AddressInfo).port;
      await browser.openPage(`http://127.0.0.1:${port}/`, {
        headers: { authorization: "Bearer test-admin-token" },
      });
      expect(seen).toBe("Bearer test-admin-token");
    } finally {
      await new Promise((done) => echo.close(done));
    }
  });
});
