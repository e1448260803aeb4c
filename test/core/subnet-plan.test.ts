import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { contains, freeBlocks, overlaps } from "../../src/core/cidr.js";
import { planSubnets, type SubnetPlanInput, type SubnetSlot } from "../../src/core/subnet-plan.js";

const NOW = new Date("2026-11-23T12:00:00Z");
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

function slot(n: number, zone: string, leased: boolean, freeMinutes = 60): SubnetSlot {
  return {
    subnetId: `subnet-${n}`,
    cidr: `10.0.128.${n * 16}/28`,
    availabilityZone: zone,
    leased,
    freeSince: leased ? null : minutesAgo(freeMinutes),
  };
}

function input(overrides: Partial<SubnetPlanInput>): SubnetPlanInput {
  return {
    range: "10.0.128.0/24",
    prefixLength: 28,
    zones: ["a", "b"],
    subnets: [],
    otherCidrs: [],
    maxSubnets: 16,
    idleSubnets: 2,
    wanted: 0,
    idleTtlSeconds: 900,
    now: NOW,
    ...overrides,
  };
}

describe("CIDR blocks", () => {
  it("carve the lowest free blocks of a range, around taken ones of any size", () => {
    expect(freeBlocks("10.0.128.0/24", 28, ["10.0.128.16/28", "10.0.128.32/27"], 3)).toEqual([
      "10.0.128.0/28",
      "10.0.128.64/28",
      "10.0.128.80/28",
    ]);
  });

  it("stop when the range is full", () => {
    expect(freeBlocks("10.0.128.0/27", 28, ["10.0.128.0/28"], 5)).toEqual(["10.0.128.16/28"]);
  });

  it("tell overlap and containment", () => {
    expect(overlaps("10.0.0.0/16", "10.0.128.0/28")).toBe(true);
    expect(overlaps("10.0.128.0/28", "10.0.128.16/28")).toBe(false);
    expect(contains("10.0.0.0/16", "10.0.128.0/17")).toBe(true);
    expect(contains("10.0.128.0/17", "10.0.0.0/16")).toBe(false);
  });

  it("refuse what is not an IPv4 CIDR", () => {
    expect(() => overlaps("10.0.0.0", "10.0.0.0/8")).toThrow(/not an IPv4 CIDR: 10.0.0.0/);
    expect(() => overlaps("10.0.300.0/24", "10.0.0.0/8")).toThrow(/not an IPv4 CIDR/);
  });

  it("never hand out overlapping blocks, nor one outside the range", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 10 }), (taken) => {
        const takenCidrs = taken.map((n) => `10.0.128.${n * 16}/28`);
        const blocks = freeBlocks("10.0.128.0/24", 28, takenCidrs, 16);
        for (const b of blocks) {
          expect(contains("10.0.128.0/24", b)).toBe(true);
          expect(takenCidrs.some((t) => overlaps(t, b))).toBe(false);
        }
        expect(new Set(blocks).size + new Set(taken).size).toBe(16);
      }),
    );
  });
});

describe("the subnet plan", () => {
  it("keeps idleSubnets free, spread over the zones", () => {
    expect(planSubnets(input({}))).toEqual({
      create: [
        { cidr: "10.0.128.0/28", availabilityZone: "a" },
        { cidr: "10.0.128.16/28", availabilityZone: "b" },
      ],
      remove: [],
    });
  });

  it("creates enough for the launches waiting, in the zones with fewest free", () => {
    const plan = planSubnets(
      input({ subnets: [slot(0, "a", false), slot(1, "a", true)], wanted: 3 }),
    );
    expect(plan.create.map((c) => c.availabilityZone)).toEqual(["b", "a"]);
    expect(plan.create.map((c) => c.cidr)).toEqual(["10.0.128.32/28", "10.0.128.48/28"]);
  });

  it("never goes past maxSubnets, and steers around CIDRs that are not ours", () => {
    const plan = planSubnets(
      input({
        subnets: [slot(0, "a", true), slot(1, "b", true)],
        otherCidrs: ["10.0.128.32/28"],
        maxSubnets: 3,
        wanted: 5,
      }),
    );
    expect(plan.create).toEqual([{ cidr: "10.0.128.48/28", availabilityZone: "a" }]);
  });

  it("deletes free surplus only once unused longer than the TTL, oldest first", () => {
    const subnets = [
      slot(0, "a", false, 5),
      slot(1, "a", false, 30),
      slot(2, "b", false, 60),
      slot(3, "b", false, 20),
      slot(4, "b", true),
    ];
    expect(planSubnets(input({ subnets, idleSubnets: 1 })).remove).toEqual([
      "subnet-2",
      "subnet-1",
      "subnet-3",
    ]);
    expect(planSubnets(input({ subnets, idleSubnets: 1, wanted: 4 })).remove).toEqual([]);
  });

  it("deletes free subnets in a zone the fleet no longer uses, never leased ones", () => {
    const plan = planSubnets(
      input({
        subnets: [
          slot(0, "gone", false, 1),
          slot(1, "gone", true),
          slot(2, "a", false),
          slot(3, "b", false),
        ],
      }),
    );
    expect(plan).toEqual({ create: [], remove: ["subnet-0"] });
  });
});
