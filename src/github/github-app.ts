import { App } from "@octokit/app";
import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import Bottleneck from "bottleneck";
import type { Secret } from "../config/secret.js";
import type { Logger } from "../log/logger.js";

/** Knobs that make waits short in tests; production keeps GitHub's recommended values. */
export interface GitHubTuning {
  /** Milliseconds per second of `retry-after` and of retry back-off (1000; tests pass 1). */
  waitUnitMs?: number;
  /** Pause between writes: GitHub asks for one second between mutating requests (1000). */
  writeSpacingMs?: number;
  /** Retries of a request answered with 5xx or not at all (3). */
  retries?: number;
  /** Longest primary rate-limit wait worth retrying for, in seconds (60); longer fails. */
  maxRateLimitWaitSeconds?: number;
  /** Items per page when listing (100, GitHub's maximum). */
  pageSize?: number;
}

export interface GitHubAppOptions {
  appId: number;
  privateKey: Secret;
  /** REST API root: https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server. */
  baseUrl: string;
  logger: Logger;
  tuning?: GitHubTuning;
  /**
   * Told of every HTTP request to GitHub, retries and token mints included, and whether it
   * was made as the App itself (JWT, `/app/...`) rather than as an installation.
   */
  onRequest?: (asApp: boolean) => void;
  /** Told when GitHub answers with a primary or secondary rate limit. */
  onThrottle?: () => void;
}

// Plain client errors are final; 403 and 429 are the throttling plugin's to retry, after
// their retry-after (GitHub answers a secondary limit with either). The retry plugin's own
// list leaves 429 out, so it would retry a 429 on its short back-off as well, and each of the
// throttling plugin's retries would bring up to three more requests.
// https://github.com/octokit/plugin-retry.js#options — 409 added: a duplicate runner name stays one.
const DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 422, 429, 451];

/**
 * The Octokit App: JWT for /app endpoints, installation tokens cached until shortly before
 * they expire (@octokit/auth-app), throttling and retry from Octokit's own plugins.
 * https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
 */
export function createGitHubApp(options: GitHubAppOptions): App {
  const tuning = options.tuning ?? {};
  const unit = tuning.waitUnitMs ?? 1000;
  const maxWait = tuning.maxRateLimitWaitSeconds ?? 60;
  const log = options.logger.child({ component: "github" });
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const asApp = appEndpoint(baseUrl);
  const ThrottledOctokit = Octokit.plugin(retry, throttling).defaults({
    baseUrl,
    // Counted at the wire, so the fleet's GitHub budget sees what GitHub sees.
    request: {
      fetch: (...args: Parameters<typeof fetch>) => {
        options.onRequest?.(asApp(args[0]));
        return fetch(...args);
      },
    },
    retry: { retries: tuning.retries ?? 3, retryAfterBaseValue: unit, doNotRetry: DO_NOT_RETRY },
    throttle: {
      retryAfterBaseValue: unit,
      // The plugin's default write group is shared by every client in the process and spaced 1 s.
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: tuning.writeSpacingMs ?? 1000 }),
      onRateLimit: rateLimitHandler(
        log,
        options.onThrottle,
        "GitHub rate limit reached",
        (retryAfter, retries) => retries < 1 && retryAfter <= maxWait,
      ),
      onSecondaryRateLimit: rateLimitHandler(
        log,
        options.onThrottle,
        "GitHub secondary rate limit reached",
        (_, retries) => retries < 3,
      ),
    },
  });
  return new App({
    appId: options.appId,
    privateKey: options.privateKey.reveal(),
    Octokit: ThrottledOctokit,
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => log.warn({ detail: String(message) }, "octokit warning"),
      error: (message: string) => log.error({ detail: String(message) }, "octokit error"),
    },
  });
}

/**
 * Whether a request URL is one of the App's own endpoints (`/app`, `/app/...`), made with its
 * JWT and limited apart from the installations' budgets.
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
 */
export function appEndpoint(baseUrl: string): (input: Parameters<typeof fetch>[0]) => boolean {
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, "");
  return (input) => {
    const url = typeof input === "string" || input instanceof URL ? input : input.url;
    const path = new URL(url).pathname.slice(basePath.length);
    return path === "/app" || path.startsWith("/app/");
  };
}

/** A throttling-plugin callback: logs the limit, then says whether to wait and retry. */
function rateLimitHandler(
  log: Logger,
  onThrottle: (() => void) | undefined,
  message: string,
  retry: (retryAfter: number, retryCount: number) => boolean,
) {
  return (
    retryAfter: number,
    request: { method: string; url: string },
    _o: unknown,
    retryCount: number,
  ) => {
    log.warn({ method: request.method, url: request.url, retryAfter }, message);
    onThrottle?.();
    return retry(retryAfter, retryCount);
  };
}
