import { describe, expect, it, vi } from "vitest";
import { kickSoon, startLoop } from "../../src/fleet/loop.js";
import { memoryLogger } from "../support/fixtures.js";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WAIT = { timeout: 10_000, interval: 5 };

describe("supervised loop", () => {
  it("runs rounds one at a time, survives a failing round, and stops", async () => {
    const { logger, lines } = memoryLogger();
    let rounds = 0;
    let inFlight = 0;
    let overlapped = false;
    const loop = startLoop(
      "test-loop",
      async () => {
        inFlight++;
        overlapped ||= inFlight > 1;
        rounds++;
        await pause(5);
        inFlight--;
        if (rounds === 2) throw new Error("second round fails");
        return { rounds };
      },
      { intervalMs: 10, logger, random: () => 0.5 },
    );
    // Until the fourth round, however slow the machine: a condition, not a window.
    await vi.waitFor(() => expect(rounds).toBeGreaterThanOrEqual(4), WAIT);
    await loop.stop();
    const seen = rounds;
    expect(overlapped).toBe(false);
    expect(lines()).toContain('"loop":"test-loop"');
    expect(lines()).toContain('"msg":"round failed"');
    await pause(50);
    expect(rounds).toBe(seen);
  });

  it("runs the next round at once when kicked", async () => {
    let rounds = 0;
    const loop = startLoop("kicked", async () => ({ rounds: ++rounds }), {
      intervalMs: 60_000,
      logger: memoryLogger().logger,
      random: () => 0,
    });
    await vi.waitFor(() => expect(rounds).toBe(1), WAIT);
    loop.kick();
    // The interval is a minute: only the kick can run the second round within the wait.
    await vi.waitFor(() => expect(rounds).toBe(2), WAIT);
    await loop.stop();
  });

  it("gathers kicks close together into one, after the delay", async () => {
    let kicks = 0;
    const soon = kickSoon({ kick: () => kicks++ }, 40);
    for (let i = 0; i < 25; i++) soon();
    expect(kicks).toBe(0);
    await vi.waitFor(() => expect(kicks).toBe(1), WAIT);
    await pause(80);
    expect(kicks).toBe(1);
    soon();
    await vi.waitFor(() => expect(kicks).toBe(2), WAIT);
  });
});
