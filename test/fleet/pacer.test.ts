import { describe, expect, it } from "vitest";
import { msUntilToken } from "../../src/core/token-bucket.js";
import { createPacer } from "../../src/fleet/pacer.js";

describe("pacer", () => {
  it("lets a burst through, then one call per token, in the order asked, on its clock", async () => {
    let clock = 0;
    const slept: number[] = [];
    // A clock the pacer's sleeps advance: no real time passes.
    const pace = createPacer(
      { capacity: 3, perSecond: 2 },
      () => clock,
      async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    );
    const order: [number, number][] = [];
    await Promise.all(
      Array.from({ length: 7 }, (_, i) => pace().then(() => order.push([i, clock]))),
    );
    // 3 at once, then one every 500 ms.
    expect(order).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 500],
      [4, 1000],
      [5, 1500],
      [6, 2000],
    ]);
    expect(slept).toEqual([500, 500, 500, 500]);
  });

  it("counts the time until a whole token", () => {
    const rate = { capacity: 2, perSecond: 4 };
    expect(msUntilToken({ tokens: 1, at: 0 }, rate, 0)).toBe(0);
    expect(msUntilToken({ tokens: 0, at: 0 }, rate, 0)).toBe(250);
    expect(msUntilToken({ tokens: 0, at: 0 }, rate, 100)).toBe(150);
    expect(msUntilToken({ tokens: -1, at: 0 }, rate, 0)).toBe(500);
  });
});
