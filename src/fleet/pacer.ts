import { type Bucket, msUntilToken, type Rate, take } from "../core/token-bucket.js";

/** Resolves when the caller may make its call: callers go in the order they asked. */
export type Pacer = () => Promise<void>;

/**
 * A token bucket spent at the moment each call is made, not when its work was claimed: work
 * claimed in different rounds can reach the same instant (one launch's GitHub write was slow,
 * the next one's fast), and the service must still never see more than `rate`.
 */
export function createPacer(
  rate: Rate,
  now: () => number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((done) => setTimeout(done, ms)),
): Pacer {
  let bucket: Bucket = { tokens: rate.capacity, at: now() };
  let queue: Promise<void> = Promise.resolve();
  return () => {
    const turn = queue.then(async () => {
      for (let wait = msUntilToken(bucket, rate, now()); wait > 0; ) {
        await sleep(wait);
        wait = msUntilToken(bucket, rate, now());
      }
      bucket = take(bucket, rate, now(), 1);
    });
    queue = turn;
    return turn;
  };
}
