import { type Bucket, msUntilToken, type Rate, refill, take } from "../core/token-bucket.js";

/**
 * A token bucket per key (the assignment endpoint's instance IDs: every VM reaches the
 * controller through the same NAT, so the source address says nothing there; the admin
 * routes' failed attempts per address). Keys whose bucket has refilled are forgotten once
 * more than `maxKeys` are held.
 */
export class PerKeyLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: Rate,
    private readonly maxKeys = 10_000,
  ) {}

  /** Spends one token of `key`: 0 when it was there, else the seconds until one is. */
  take(key: string, nowMs: number): number {
    const bucket = this.#buckets.get(key) ?? { tokens: this.rate.capacity, at: nowMs };
    const wait = msUntilToken(bucket, this.rate, nowMs);
    if (wait > 0) return Math.ceil(wait / 1000);
    this.#buckets.set(key, take(bucket, this.rate, nowMs, 1));
    if (this.#buckets.size > this.maxKeys) this.#forgetFull(nowMs);
    return 0;
  }

  /** The seconds until `key` has a token (0: it has one now), spending nothing. */
  wait(key: string, nowMs: number): number {
    const bucket = this.#buckets.get(key);
    return bucket === undefined ? 0 : Math.ceil(msUntilToken(bucket, this.rate, nowMs) / 1000);
  }

  /** How many keys it holds. */
  get size(): number {
    return this.#buckets.size;
  }

  #forgetFull(nowMs: number): void {
    for (const [key, bucket] of this.#buckets)
      if (refill(bucket, this.rate, nowMs).tokens >= this.rate.capacity) this.#buckets.delete(key);
  }
}
