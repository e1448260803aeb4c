/** A token bucket's state: tokens now, as of a time. */
export interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

/** A rate budget: `capacity` tokens at most, refilled at `perSecond`. */
export interface Rate {
  readonly capacity: number;
  readonly perSecond: number;
}

/** The bucket refilled up to `nowMs`. */
export function refill(bucket: Bucket, rate: Rate, nowMs: number): Bucket {
  const elapsed = Math.max(0, nowMs - bucket.at) / 1000;
  return {
    tokens: Math.min(rate.capacity, bucket.tokens + elapsed * rate.perSecond),
    at: Math.max(nowMs, bucket.at),
  };
}

/** Whole tokens available now. */
export function available(bucket: Bucket, rate: Rate, nowMs: number): number {
  return Math.floor(refill(bucket, rate, nowMs).tokens);
}

/**
 * The bucket after `n` tokens were spent that were not asked for first (e.g. retries):
 * it may go into debt, which later refills pay back before anything is available again.
 */
export function charge(bucket: Bucket, rate: Rate, nowMs: number, n: number): Bucket {
  const full = refill(bucket, rate, nowMs);
  return { tokens: full.tokens - n, at: full.at };
}

/** The bucket after spending `n` tokens now (never below zero). */
export function take(bucket: Bucket, rate: Rate, nowMs: number, n: number): Bucket {
  const full = refill(bucket, rate, nowMs);
  return { tokens: Math.max(0, full.tokens - n), at: full.at };
}

/** Milliseconds from `nowMs` until one whole token is there (0 when one is now). */
export function msUntilToken(bucket: Bucket, rate: Rate, nowMs: number): number {
  const full = refill(bucket, rate, nowMs);
  return full.tokens >= 1 ? 0 : Math.ceil(((1 - full.tokens) / rate.perSecond) * 1000);
}
