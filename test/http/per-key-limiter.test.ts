import { describe, expect, it } from "vitest";
import { PerKeyLimiter } from "../../src/http/per-key-limiter.js";

describe("per-key limiter", () => {
  it("spends each key's own bucket and says how long until the next token", () => {
    const limiter = new PerKeyLimiter({ capacity: 2, perSecond: 0.5 });
    expect([limiter.take("a", 0), limiter.take("a", 0), limiter.take("a", 0)]).toEqual([0, 0, 2]);
    expect(limiter.take("b", 0)).toBe(0);
    expect(limiter.take("a", 1000)).toBe(1);
    expect(limiter.take("a", 2000)).toBe(0);
  });

  it("forgets keys whose bucket refilled once it holds more than its cap, and keeps the others", () => {
    const limiter = new PerKeyLimiter({ capacity: 1, perSecond: 1 }, 3);
    for (const key of ["a", "b", "c"]) limiter.take(key, 0);
    expect(limiter.size).toBe(3);
    // At 5 s a, b and c are full again; d is new: the sweep leaves d, spent just now.
    limiter.take("d", 5000);
    expect(limiter.size).toBe(1);
    expect(limiter.take("d", 5000)).toBe(1);
  });
});
