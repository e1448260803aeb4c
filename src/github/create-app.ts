import { randomBytes } from "node:crypto";
import { UsageError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import {
  credentialsJson,
  releaseCredentialsFile,
  reserveCredentialsFile,
  writeCredentialsFile,
} from "./app-credentials.js";
import { fillAppManifest, loadManifestTemplate } from "./app-manifest.js";
import { convertManifestCode } from "./manifest-conversion.js";
import { startManifestPageServer } from "./manifest-page-server.js";

export interface CreateAppOptions {
  /** The organisation that will own the App; absent: the signed-in user's own account. */
  org?: string;
  /** GitHub's web address: https://github.com (default), or https://HOST for Enterprise Server. */
  webUrl?: string;
  /** The REST API root; default: derived from `webUrl` (api.github.com, HOST/api/v3). */
  apiUrl?: string;
  /** Where GitHub sends webhooks: the controller's `/webhook` (https). */
  webhookUrl: string;
  /** The App's name, unique on GitHub (default "mayfly-ORG"). */
  name?: string;
  /** An env file to create (mode 0600, never overwritten), or "print": JSON on stdout, once. */
  output: { file: string } | "print";
  /** Ask for repository "Administration: write" too, for pools with `registration: repo`. */
  repositoryRunners?: boolean;
  /** How long to wait for GitHub to send the browser back (default 10 minutes). */
  timeoutMs?: number;
  /** The manifest template; default: `app-manifest.json` of this package. */
  manifestTemplate?: unknown;
}

export interface CreateAppIo {
  logger: Logger;
  /** Told the local page to open in a browser (print it, or open a browser on it). */
  onUrl: (url: string) => void;
  /** Standard output: receives the credentials in "print" mode, and nothing else. */
  out: (text: string) => void;
  fetch?: typeof fetch;
}

/** The App that now exists on GitHub; no credential in here. */
export interface CreatedApp {
  appId: number;
  slug: string;
  name: string;
  htmlUrl: string;
  /** Where the operator installs the App on the organisation. */
  installUrl: string;
  owner: string | undefined;
  /** The file the credentials went to, or "stdout". */
  writtenTo: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const ORG_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

/** The REST API root of a GitHub web address (github.com, GHE.com, or Enterprise Server). */
export function apiUrlFor(webUrl: string): string {
  const url = new URL(webUrl);
  if (url.hostname === "github.com") return "https://api.github.com";
  // https://docs.github.com/en/enterprise-cloud@latest/admin/data-residency/network-details-for-ghecom
  if (url.hostname.endsWith(".ghe.com")) return `https://api.${url.hostname}`;
  return `${url.origin}/api/v3`;
}

function httpUrl(text: string, flag: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url === undefined || !["http:", "https:"].includes(url.protocol)) {
    throw new UsageError(`${flag}: expected an http(s) URL, got "${text}"`);
  }
  return text.replace(/\/+$/, "");
}

const isLoopback = (url: URL) => ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);

// GitHub delivers webhooks to public https URLs; loopback http is for the simulated GitHub.
function checkWebhookUrl(text: string): string {
  const url = new URL(httpUrl(text, "webhook URL"));
  if (url.protocol !== "https:" && !isLoopback(url)) {
    throw new UsageError(`webhook URL: GitHub needs https, got "${text}"`);
  }
  return text;
}

// The manifest conversion answers the App's private key and webhook secret: never in clear
// beyond this machine.
function checkApiUrl(text: string): string {
  const checked = httpUrl(text, "GitHub API URL");
  const url = new URL(checked);
  if (url.protocol !== "https:" && !isLoopback(url)) {
    throw new UsageError(
      `GitHub API URL: expected https (http only to this machine), got "${text}"`,
    );
  }
  return checked;
}

/** Checks the options and settles every default, before anything is started. */
function settle(options: CreateAppOptions) {
  if (options.org !== undefined && !ORG_LOGIN.test(options.org)) {
    throw new UsageError(`org: "${options.org}" is not a GitHub organisation name`);
  }
  const webUrl = httpUrl(options.webUrl ?? "https://github.com", "GitHub URL");
  const apiUrl = checkApiUrl(options.apiUrl ?? apiUrlFor(webUrl));
  const owner = options.org === undefined ? "" : `/organizations/${options.org}`;
  // App names are unique across GitHub: a personal App gets a random suffix.
  const name =
    options.name ?? `mayfly-${options.org ?? randomBytes(3).toString("hex")}`.slice(0, 34);
  if (name.trim() === "" || name.length > 34) {
    throw new UsageError(`name: GitHub App names have 1 to 34 characters, got "${name}"`);
  }
  return { webUrl, apiUrl, newAppUrl: `${webUrl}${owner}/settings/apps/new`, name };
}

/**
 * Registers mayfly's GitHub App from its manifest: serves a local page that posts the
 * manifest to GitHub, waits for GitHub to send the browser back with a code, trades the
 * code for the App's ID, key and webhook secret, and writes those where the operator said.
 * https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
 */
export async function createAppFromManifest(
  options: CreateAppOptions,
  io: CreateAppIo,
): Promise<CreatedApp> {
  const { apiUrl, newAppUrl, name } = settle(options);
  const webhookUrl = checkWebhookUrl(options.webhookUrl);
  const template = options.manifestTemplate ?? loadManifestTemplate();
  const log = io.logger.child({ component: "app-create" });
  const state = randomBytes(16).toString("hex");
  const path = options.output === "print" ? undefined : options.output.file;
  const file = path === undefined ? undefined : await reserveCredentialsFile(path);
  try {
    const server = await startManifestPageServer({
      state,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      logger: io.logger,
      form: (redirectUrl) => ({
        action: `${newAppUrl}?state=${state}`,
        manifest: JSON.stringify(
          fillAppManifest(template, {
            name,
            webhookUrl,
            redirectUrl,
            repositoryRunners: options.repositoryRunners ?? false,
          }),
        ),
      }),
    });
    let code: string;
    try {
      log.info(
        { url: server.url, org: options.org },
        "waiting for the App to be created on GitHub",
      );
      io.onUrl(server.url);
      code = await server.code();
    } finally {
      await server.close();
    }
    const app = await convertManifestCode(apiUrl, code, io.fetch ?? fetch);
    log.info({ appId: app.id, slug: app.slug, owner: app.owner }, "GitHub App created");
    if (file === undefined || path === undefined) io.out(credentialsJson(app));
    else await writeCredentialsFile(file, path, app);
    const writtenTo = path ?? "stdout";
    log.info({ appId: app.id, writtenTo }, "GitHub App credentials written");
    return {
      appId: app.id,
      slug: app.slug,
      name: app.name,
      htmlUrl: app.htmlUrl,
      installUrl: `${app.htmlUrl}/installations/new`,
      owner: app.owner,
      writtenTo,
    };
  } catch (error) {
    if (file !== undefined && path !== undefined) await releaseCredentialsFile(file, path);
    throw error;
  }
}
