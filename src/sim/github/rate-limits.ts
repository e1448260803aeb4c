/** How much the simulated GitHub lets one caller do; tests shrink these to trigger limits cheaply. */
export interface RateLimitOptions {
  /** Primary limit: requests per window per installation (GitHub: 5,000 per hour). */
  primaryLimit: number;
  primaryWindowMs: number;
  /** Secondary limit: points per window (GitHub: 900 per minute; GET 1 point, writes 5). */
  secondaryPoints: number;
  secondaryWindowMs: number;
}

// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
export const GITHUB_RATE_LIMITS: RateLimitOptions = {
  primaryLimit: 5000,
  primaryWindowMs: 3_600_000,
  secondaryPoints: 900,
  secondaryWindowMs: 60_000,
};

/** What the limiter decided for one request. */
export type RateVerdict =
  | { kind: "ok"; headers: Record<string, string> }
  | { kind: "primary"; headers: Record<string, string> }
  | { kind: "secondary"; headers: Record<string, string> };

interface Window {
  start: number;
  used: number;
}

/** Fixed-window counters per caller, for the primary and the secondary limit. */
export class RateLimits {
  readonly #primary = new Map<string, Window>();
  readonly #secondary = new Map<string, Window>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number,
  ) {}

  /** Counts one request by `caller` and says whether it may go through. */
  take(caller: string, method: string): RateVerdict {
    const now = this.now();
    const primary = this.#window(this.#primary, caller, this.options.primaryWindowMs, now);
    const secondary = this.#window(this.#secondary, caller, this.options.secondaryWindowMs, now);
    const reset = Math.ceil((primary.start + this.options.primaryWindowMs) / 1000);
    const headersFor = (used: number): Record<string, string> => ({
      "x-ratelimit-limit": String(this.options.primaryLimit),
      "x-ratelimit-remaining": String(Math.max(0, this.options.primaryLimit - used)),
      "x-ratelimit-reset": String(reset),
      "x-ratelimit-used": String(used),
      "x-ratelimit-resource": "core",
    });
    if (primary.used >= this.options.primaryLimit) {
      return { kind: "primary", headers: headersFor(primary.used) };
    }
    const points = method === "GET" || method === "HEAD" ? 1 : 5;
    if (secondary.used + points > this.options.secondaryPoints) {
      const waitMs = secondary.start + this.options.secondaryWindowMs - now;
      return {
        kind: "secondary",
        headers: {
          ...headersFor(primary.used),
          "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))),
        },
      };
    }
    primary.used += 1;
    secondary.used += points;
    return { kind: "ok", headers: headersFor(primary.used) };
  }

  #window(map: Map<string, Window>, caller: string, length: number, now: number): Window {
    const current = map.get(caller);
    if (current !== undefined && now - current.start < length) return current;
    const fresh = { start: now, used: 0 };
    map.set(caller, fresh);
    return fresh;
  }
}
