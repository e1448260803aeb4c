import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DescribeInstanceAttributeCommand,
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
    let result:
      | {
          figures: DemoFigures;
          vms: readonly WorldVm[];
          issuedJitConfigs: readonly string[];
          log: string;
          stored: string;
        }
      | undefined;
    const code = await runDemo(
      { out: (t) => out.push(t), progress: () => {} },
      {
        ec2Endpoint: moto.url,
        burst: 8,
        trickle: 4,
        deadlineMs: 40_000,
        onFinished: (r) => {
          result = {
            ...r,
            log: readFileSync(r.logPath, "utf8"),
            // Every byte of the embedded database: tables, indexes and the write-ahead log.
            stored: readdirSync(r.dataDir, { recursive: true, withFileTypes: true })
              .filter((f) => f.isFile())
              .map((f) => readFileSync(join(f.parentPath, f.name)).toString("latin1"))
              .join("\n"),
          };
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

    // The JIT configs GitHub issued reached the VMs only through the assignment endpoint:
    // none is in any VM's user data (as any principal allowed DescribeInstanceAttribute reads
    // it), in the database or in the controller's log.
    const { issuedJitConfigs, log, stored } = result as NonNullable<typeof result>;
    expect(issuedJitConfigs.length).toBeGreaterThanOrEqual(figures.served);
    const userData = await Promise.all(
      inMoto.map(async (i) => {
        const answer = await client.send(
          new DescribeInstanceAttributeCommand({
            InstanceId: i.InstanceId as string,
            Attribute: "userData",
          }),
        );
        return Buffer.from(answer.UserData?.Value ?? "", "base64").toString("utf8");
      }),
    );
    expect(userData.every((u) => u.includes("/runner/v1/assignment"))).toBe(true);
    // The scan reads the rows: each VM's instance ID is there.
    expect(inMoto.every((i) => stored.includes(i.InstanceId as string))).toBe(true);
    const secrets = issuedJitConfigs.flatMap((jit) => [
      jit,
      String(JSON.parse(Buffer.from(jit, "base64").toString("utf8"))[".credentials"]),
    ]);
    const where = (text: string) => secrets.filter((secret) => text.includes(secret));
    expect(userData.flatMap(where)).toEqual([]);
    expect(where(stored)).toEqual([]);
    expect(where(log)).toEqual([]);
  }, 60_000);
});
