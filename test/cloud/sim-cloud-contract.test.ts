import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { startSimEc2 } from "../../src/sim/ec2/sim-ec2.js";
import { describeCloudContract } from "./cloud-contract.js";
import { testEc2Client } from "./ec2-test-client.js";

describeCloudContract("Ec2Cloud on the simulated EC2", async () => {
  const sim = await startSimEc2({
    vpcId: "vpc-0511",
    vpcCidr: "10.20.0.0/16",
    strictSubnets: true,
  });
  return {
    cloud: new Ec2Cloud({
      client: testEc2Client(sim.url),
      fleet: "contract",
      network: { vpcId: "vpc-0511", egress: "nat" },
    }),
    vpcCidr: "10.20.0.0/16",
    zone: "eu-west-1b",
    stop: () => sim.stop(),
  };
});
