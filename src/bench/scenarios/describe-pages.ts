import { createEc2Client } from "../../cloud/ec2/ec2-client.js";
import { Ec2Cloud } from "../../cloud/ec2/ec2-cloud.js";
import { FLEET_TAG } from "../../cloud/ec2/run-instances-input.js";
import { DEMO_VPC } from "../../demo/demo-fleet.js";
import { startSimEc2 } from "../../sim/ec2/sim-ec2.js";

/**
 * DescribeInstances pages one reconcile pass reads per 1000 VMs: a reconcile pass lists the
 * fleet once through `Cloud.listOurs` (src/fleet/reconciler.ts), so this is the pages of one
 * listing of `vms` VMs of ours, scaled to 1000.
 */
export async function describePagesPer1000(vms: number): Promise<number> {
  const sim = await startSimEc2({ ...DEMO_VPC });
  const client = createEc2Client({
    endpoint: sim.url,
    region: "eu-west-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  try {
    sim.seed(vms, { [FLEET_TAG]: "bench" });
    sim.seed(Math.round(vms / 10), { [FLEET_TAG]: "someone-else" });
    const cloud = new Ec2Cloud({
      client,
      fleet: "bench",
      network: { vpcId: DEMO_VPC.vpcId, egress: "nat" },
    });
    const before = sim.calls("DescribeInstances");
    let seen = 0;
    for await (const _vm of cloud.listOurs()) seen++;
    if (seen !== vms) throw new Error(`listed ${seen} of ${vms} VMs`);
    return ((sim.calls("DescribeInstances") - before) / vms) * 1000;
  } finally {
    client.destroy();
    await sim.stop();
  }
}
