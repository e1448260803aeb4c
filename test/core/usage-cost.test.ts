import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostedCost, usageOf, vcpusByName } from "../../src/core/usage-cost.js";

const now = new Date("2026-11-23T10:00:00Z");
const t = (s: number) => new Date(now.getTime() + s * 1000);
const HOSTED = { "2": 0.006, "4": 0.012, "8": 0.022 };
const prices = (byType: Record<string, { onDemand: number; spot?: number; vcpus?: number }>) => ({
  byType,
  hosted: HOSTED,
});

describe("usage and cost", () => {
  it("bills launch to termination at the market's price, beside the GitHub-hosted runner of the same size", () => {
    const usage = usageOf(
      { launchedAt: t(0), terminatedAt: t(600), startedAt: t(40), completedAt: t(580) },
      { instanceType: "c7i.large", market: "spot" },
      prices({ "c7i.large": { onDemand: 0.18, spot: 0.06 } }),
    );
    // 540 s of job is 9 billed minutes on a 2-core hosted runner.
    expect(usage).toEqual({
      instanceSeconds: 600,
      jobSeconds: 540,
      estimatedCostUsd: 0.01,
      hostedEquivalentUsd: 0.054,
    });
  });

  it("bills at least a minute, prices spot as on-demand when no spot price is known, and leaves unknown types unpriced", () => {
    const times = { launchedAt: t(0), terminatedAt: t(5), startedAt: null, completedAt: null };
    const table = prices({ "c7i.xlarge": { onDemand: 0.36 } });
    expect(usageOf(times, { instanceType: "c7i.xlarge", market: "spot" }, table)).toEqual({
      instanceSeconds: 60,
      jobSeconds: null,
      estimatedCostUsd: 0.006,
      hostedEquivalentUsd: 0,
    });
    const unknown = usageOf(times, { instanceType: "x9.odd", market: "on-demand" }, table);
    expect(unknown.estimatedCostUsd).toBeNull();
    expect(unknown.hostedEquivalentUsd).toBeNull();
  });

  it("rounds a hosted job up to the minute on the smallest runner with enough cores", () => {
    expect(hostedCost(61, 2, HOSTED)).toBe(0.012);
    expect(hostedCost(60, 3, HOSTED)).toBe(0.012);
    expect(hostedCost(1, 8, HOSTED)).toBe(0.022);
    expect(hostedCost(600, 16, HOSTED)).toBeNull();
    expect(hostedCost(null, 4, HOSTED)).toBe(0);
  });

  it("reads vCPUs off the size names the families share, and the price table wins", () => {
    expect(vcpusByName("c7i.large")).toBe(2);
    expect(vcpusByName("m7g.xlarge")).toBe(4);
    expect(vcpusByName("c6i.2xlarge")).toBe(8);
    expect(vcpusByName("t3.medium")).toBeNull();
    const times = { launchedAt: t(0), terminatedAt: t(120), startedAt: t(0), completedAt: t(60) };
    const usage = usageOf(
      times,
      { instanceType: "t3.medium", market: "on-demand" },
      prices({ "t3.medium": { onDemand: 0.04, vcpus: 2 } }),
    );
    expect(usage.hostedEquivalentUsd).toBe(0.006);
  });

  it("never bills fewer seconds than the job ran, whatever the clocks say", () => {
    fc.assert(
      fc.property(
        fc.nat(100_000),
        fc.integer({ min: -500, max: 100_000 }),
        fc.nat(100_000),
        (a, b, c) => {
          const usage = usageOf(
            {
              launchedAt: t(a),
              terminatedAt: t(a + c),
              startedAt: t(a + b),
              completedAt: t(a + b + c),
            },
            { instanceType: "c7i.large", market: "on-demand" },
            prices({ "c7i.large": { onDemand: 1 } }),
          );
          expect(usage.instanceSeconds).toBeGreaterThanOrEqual(usage.jobSeconds ?? 0);
          expect(usage.hostedEquivalentUsd).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});
