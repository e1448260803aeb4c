import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { available, charge, take } from "../../src/core/token-bucket.js";

const rate = { capacity: 10, perSecond: 2 };

describe("token bucket", () => {
  it("starts full, spends, and refills at its rate up to capacity", () => {
    let bucket = { tokens: 10, at: 0 };
    expect(available(bucket, rate, 0)).toBe(10);
    bucket = take(bucket, rate, 0, 10);
    expect(available(bucket, rate, 0)).toBe(0);
    expect(available(bucket, rate, 1500)).toBe(3);
    expect(available(bucket, rate, 60_000)).toBe(10);
  });

  it("never goes below zero nor above capacity, and never grants more than the rate allows", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(5000), fc.nat(15)), { maxLength: 50 }), (steps) => {
        let bucket = { tokens: rate.capacity, at: 0 };
        let t = 0;
        let granted = 0;
        for (const [dt, want] of steps) {
          t += dt;
          const n = Math.min(want, available(bucket, rate, t));
          expect(n).toBeGreaterThanOrEqual(0);
          expect(n).toBeLessThanOrEqual(rate.capacity);
          bucket = take(bucket, rate, t, n);
          granted += n;
        }
        expect(granted).toBeLessThanOrEqual(rate.capacity + (t / 1000) * rate.perSecond);
      }),
    );
  });

  it("charges unasked-for spending as debt that refills pay back first", () => {
    const rate = { capacity: 10, perSecond: 2 };
    const owing = charge({ tokens: 3, at: 0 }, rate, 0, 7);
    expect(owing.tokens).toBe(-4);
    expect(available(owing, rate, 1000)).toBe(-2);
    expect(available(owing, rate, 3000)).toBe(2);
  });
});
