import { CreateVpcCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { CloudError } from "../errors.js";
import { DEMO_VPC } from "./demo-fleet.js";

/** Creates the demo's VPC in an external EC2 endpoint; mayfly makes its runner subnets in it. */
export async function createDemoVpc(client: EC2Client, endpoint: string): Promise<string> {
  let vpcId: string | undefined;
  try {
    const answer = await client.send(new CreateVpcCommand({ CidrBlock: DEMO_VPC.vpcCidr }));
    vpcId = answer.Vpc?.VpcId;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CloudError(`demo: CreateVpc at ${endpoint} failed: ${reason}`, { cause: error });
  }
  if (!vpcId) throw new CloudError(`demo: CreateVpc at ${endpoint} answered without a VPC ID`);
  return vpcId;
}
