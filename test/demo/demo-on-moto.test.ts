import {
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type Instance,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemoFigures } from "../../src/demo/demo-report.js";
import { runDemo } from "../../src/demo/run-demo.js";
import type { WorldVm } from "../../src/sim/world/start-sim-world.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import { type MotoServer, motoServerFor, startMotoServer } from "../support/moto-server.js";

/**
 * The demo against moto_server, an EC2 we did not write: mayfly makes its subnets and ACL in
 * a VPC there, launches real RunInstances, and the world plays the VMs it finds by polling.
 */
const motoBin = motoServerFor("the demo on moto (test/demo/demo-on-moto.test.ts)");

let moto: MotoServer;
let client: EC2Client;

beforeAll(async () => {
  if (!motoBin) return;
  moto = await startMotoServer(motoBin);
  client = testEc2Client(moto.url);
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

async function instancesInMoto(): Promise<Instance[]> {
  const answer = await client.send(
    new DescribeInstancesCommand({ Filters: [{ Name: "tag:mayfly:fleet", Values: ["demo"] }] }),
  );
  return (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

/** Two VMs share a subnet only one after the other, never at once. */
function overlapping(vms: readonly WorldVm[]): [string, string][] {
  const clashes: [string, string][] = [];
  for (const a of vms)
    for (const b of vms) {
      if (a.instanceId >= b.instanceId || a.subnetId !== b.subnetId) continue;
      const aEnd = a.terminatedAtMs ?? Number.POSITIVE_INFINITY;
      const bEnd = b.terminatedAtMs ?? Number.POSITIVE_INFINITY;
      if (a.launchedAtMs < bEnd && b.launchedAtMs < aEnd)
        clashes.push([a.instanceId, b.instanceId]);
    }
  return clashes;
}

describe.skipIf(!motoBin)("mayfly demo --ec2-endpoint (moto_server)", () => {
  it("serves every job on VMs in moto, each alone in its subnet, and leaves none running", async () => {
    const out: string[] = [];
    let result: { figures: DemoFigures; vms: readonly WorldVm[] } | undefined;
    const code = await runDemo(
      { out: (t) => out.push(t), progress: () => {} },
      {
        ec2Endpoint: moto.url,
        burst: 8,
        trickle: 4,
        deadlineMs: 40_000,
        onFinished: (r) => {
          result = r;
        },
      },
    );

    expect(code, out.join("\n")).toBe(0);
    const { figures, vms } = result as NonNullable<typeof result>;
    expect(figures.jobs).toBe(12);
    expect(figures.unserved).toBe(0);
    expect(figures.served + figures.cancelled).toBe(figures.jobs);
    expect(figures.ec2Calls).toBeGreaterThan(0);

    const inMoto = await instancesInMoto();
    expect(inMoto.length).toBe(figures.vmsLaunched);
    expect(inMoto.length).toBeGreaterThanOrEqual(figures.served);
    expect(inMoto.filter((i) => i.State?.Name !== "terminated")).toEqual([]);
    expect(vms.map((v) => v.instanceId).sort()).toEqual(inMoto.map((i) => i.InstanceId).sort());

    // Runner subnets are mayfly's own, carved from the fleet's runner range 10.0.128.0/17.
    const subnetIds = [...new Set(inMoto.map((i) => i.SubnetId as string))];
    const subnets = await client.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }));
    for (const s of subnets.Subnets ?? []) {
      expect(Number(s.CidrBlock?.split(".")[2])).toBeGreaterThanOrEqual(128);
    }
    expect(overlapping(vms)).toEqual([]);
    expect(out.join("\n")).toContain("0 left running");
  }, 60_000);
});
