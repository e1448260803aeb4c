import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Cloud, LaunchRequest, VmState } from "../../src/cloud/cloud.js";
import { CloudConflictError } from "../../src/errors.js";

/** A cloud to test, in a VPC whose primary block is `vpcCidr`, with subnets made in `zone`. */
export interface CloudUnderTest {
  readonly cloud: Cloud;
  readonly vpcCidr: string;
  readonly zone: string;
  stop(): Promise<void>;
}

/** The /28 at `index` in the VPC's block, counted from its last address downward. */
function cidrIn(vpcCidr: string, index: number): string {
  const [address = "", bits = ""] = vpcCidr.split("/");
  const start = address.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  const at = start + 2 ** (32 - Number(bits)) - 16 * (index + 1);
  return `${[24, 16, 8, 0].map((s) => Math.floor(at / 2 ** s) % 256).join(".")}/28`;
}

async function listAll(cloud: Cloud): Promise<VmState[]> {
  const out: VmState[] = [];
  for await (const vm of cloud.listOurs()) out.push(vm);
  return out;
}

/**
 * The promises every Cloud implementation keeps, run against each of them (the simulator,
 * moto_server). Nothing here depends on capacity errors or on ClientToken deduplication,
 * which not every emulator has.
 */
export function describeCloudContract(name: string, setUp: () => Promise<CloudUnderTest>): void {
  describe(`Cloud contract: ${name}`, () => {
    let t: CloudUnderTest;
    beforeEach(async () => {
      t = await setUp();
    });
    afterEach(async () => {
      await t.stop();
    });

    async function launchOne(subnetId: string, jobId: number) {
      const req: LaunchRequest = {
        pool: "contract",
        jobId,
        runnerName: `mayfly-${jobId}-a`,
        image: "ami-0123456789abcdef0",
        instanceType: "t3.micro",
        market: "on-demand",
        subnetId,
        diskGiB: 8,
        userData: "#!/bin/sh\ntrue\n",
      };
      return t.cloud.launch(req, `contract-${jobId}`);
    }

    it("finds a launched VM by its tags", async () => {
      const subnet = await t.cloud.createSubnet(cidrIn(t.vpcCidr, 0), t.zone);
      const vm = await launchOne(subnet.subnetId, 4242);
      expect(vm.availabilityZone).toBe(t.zone);
      const ours = await listAll(t.cloud);
      expect(ours.find((v) => v.instanceId === vm.instanceId)).toMatchObject({
        pool: "contract",
        jobId: 4242,
        runnerName: "mayfly-4242-a",
      });
    });

    it("terminates in batches, again and again, unknown IDs included", async () => {
      const subnet = await t.cloud.createSubnet(cidrIn(t.vpcCidr, 0), t.zone);
      const vms = await Promise.all([1, 2, 3].map((n) => launchOne(subnet.subnetId, n)));
      const ids = vms.map((v) => v.instanceId);
      await t.cloud.terminate([...ids, "i-0deadbeefdeadbeef"]);
      await t.cloud.terminate(ids);
      await t.cloud.terminate([]);
      const ours = await listAll(t.cloud);
      for (const id of ids) {
        expect(["shutting-down", "terminated"]).toContain(
          ours.find((v) => v.instanceId === id)?.status,
        );
      }
    });

    it("creates an isolated subnet that listSubnets shows", async () => {
      const cidr = cidrIn(t.vpcCidr, 1);
      const created = await t.cloud.createSubnet(cidr, t.zone);
      expect(created).toMatchObject({ cidr, availabilityZone: t.zone, isolated: true });
      const listed = await t.cloud.listSubnets();
      expect(listed).toContainEqual(created);
      // Isolating it again changes nothing.
      await t.cloud.isolateSubnet(created.subnetId);
      expect(await t.cloud.listSubnets()).toContainEqual(created);
    });

    it("refuses an overlapping CIDR with a conflict", async () => {
      await t.cloud.createSubnet(cidrIn(t.vpcCidr, 2), t.zone);
      const wider = `${cidrIn(t.vpcCidr, 3).split("/")[0]}/27`;
      await expect(t.cloud.createSubnet(wider, t.zone)).rejects.toBeInstanceOf(CloudConflictError);
    });

    it("lets exactly one of two concurrent creations of a CIDR win", async () => {
      const cidr = cidrIn(t.vpcCidr, 4);
      const results = await Promise.allSettled([
        t.cloud.createSubnet(cidr, t.zone),
        t.cloud.createSubnet(cidr, t.zone),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected");
      expect(lost?.reason).toBeInstanceOf(CloudConflictError);
      expect((await t.cloud.listSubnets()).filter((s) => s.cidr === cidr)).toHaveLength(1);
    });

    it("deletes a subnet, and deleting it again is fine", async () => {
      const { subnetId } = await t.cloud.createSubnet(cidrIn(t.vpcCidr, 5), t.zone);
      await t.cloud.deleteSubnet(subnetId);
      await t.cloud.deleteSubnet(subnetId);
      expect((await t.cloud.listSubnets()).map((s) => s.subnetId)).not.toContain(subnetId);
    });
  });
}
