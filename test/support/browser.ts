import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type Response,
} from "playwright-core";
import { needTool } from "./need-tool.js";

/**
 * Headless Chromium for tests that look at what mayfly serves, as a person would see it.
 * It uses the machine's Debian `chromium` (no browser download): the test network is closed.
 */

/** Chromium switches that keep a closed-network test run from reaching for the internet. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const SCREENSHOT_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../test-results/screenshots",
);

/** A page and what it did: console errors, page errors and every request it made. */
export interface OpenedPage {
  readonly page: Page;
  /** The navigation's answer; null if `openPage` was not given a URL to load. */
  readonly response: Response | null;
  /** Console messages of type "error", then uncaught page errors, as text. */
  readonly consoleErrors: string[];
  /** Every URL the page asked for, in order, the document included. */
  readonly requests: string[];
}

/** Options of one page: each page gets its own browser context. */
export interface PageOptions {
  /** Sent with every request of the page, e.g. `{ authorization: "Bearer …" }`. */
  readonly headers?: Record<string, string>;
  readonly viewport?: { readonly width: number; readonly height: number };
}

/** A running headless Chromium that opens watched pages, and closes them all at once. */
export interface TestBrowser {
  /** Opens a fresh page; loads `url` if given, after its watchers are in place. */
  openPage(url: string | null, options?: PageOptions): Promise<OpenedPage>;
  /** Closes every page and the browser. */
  close(): Promise<void>;
}

/** The Chromium the tests start: `CHROMIUM_PATH` or Debian's `/usr/bin/chromium`. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Whether a browser suite runs: off the test command a missing Chromium skips it with a
 * message; under it (CI set) it fails the suite's file (see needTool).
 */
export function chromiumFor(suite: string): boolean {
  return needTool({
    tool: `Chromium (${CHROMIUM})`,
    found: existsSync(CHROMIUM),
    suite,
    install: "apt-get install chromium, or set CHROMIUM_PATH to a Chromium executable",
  });
}

/** Starts headless Chromium: `CHROMIUM_PATH` or `/usr/bin/chromium`. */
export async function launchBrowser(executablePath = CHROMIUM): Promise<TestBrowser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}: install Debian's chromium package ` +
        "(apt-get install chromium), or set CHROMIUM_PATH to a Chromium executable",
    );
  }
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const contexts: BrowserContext[] = [];
  return {
    async openPage(url, options = {}) {
      const context = await browser.newContext({
        extraHTTPHeaders: options.headers ?? {},
        viewport: options.viewport ?? { width: 1320, height: 900 },
      });
      contexts.push(context);
      return watch(await context.newPage(), url);
    },
    close: () => closeAll(browser, contexts),
  };
}

async function watch(page: Page, url: string | null): Promise<OpenedPage> {
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  page.on("request", (request) => requests.push(request.url()));
  const response = url === null ? null : await page.goto(url, { waitUntil: "load" });
  return { page, response, consoleErrors, requests };
}

async function closeAll(browser: Browser, contexts: BrowserContext[]): Promise<void> {
  await Promise.all(contexts.map((context) => context.close()));
  await browser.close();
}

/** Saves a full-page screenshot as `test-results/screenshots/<name>.png`; returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, "-")}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
