import { describe, expect, it } from "vitest";
import { sharedSubnets, type VmLife } from "./assert-no-shared-subnets.js";

const vm = (id: string, subnetId: string, launchedAtMs: number, terminatedAtMs: number | null) =>
  ({ instanceId: id, subnetId, launchedAtMs, terminatedAtMs }) satisfies VmLife;

describe("sharedSubnets: VMs alive at once in one subnet", () => {
  it("passes VMs that follow one another in a subnet, or live at once in different ones", () => {
    const vms = [
      vm("i-1", "subnet-a", 0, 100),
      vm("i-2", "subnet-a", 150, 300),
      vm("i-3", "subnet-b", 10, null),
      vm("i-4", "subnet-a", 400, null),
    ];
    expect(sharedSubnets(vms, 50)).toEqual([]);
  });

  it("names a VM launched in a subnet before the one there ended, shutting-down included", () => {
    expect(
      sharedSubnets([vm("i-2", "subnet-a", 120, 300), vm("i-1", "subnet-a", 0, 100)], 50),
    ).toEqual(["i-2 launched in subnet-a while i-1 lived"]);
    expect(
      sharedSubnets([vm("i-1", "subnet-a", 0, null), vm("i-2", "subnet-a", 5000, 6000)], 0),
    ).toEqual(["i-2 launched in subnet-a while i-1 lived"]);
    expect(
      sharedSubnets([vm("i-1", "s", 0, 10), vm("i-2", "s", 1, 10), vm("i-3", "s", 2, 10)], 0),
    ).toHaveLength(3);
  });
});
