import { describe } from "vitest";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { createTestVpc, motoServerFor, startMotoServer } from "../support/moto-server.js";
import { describeCloudContract } from "./cloud-contract.js";
import { testEc2Client } from "./ec2-test-client.js";

const motoBin = motoServerFor(
  "the Cloud contract on moto (test/cloud/moto-cloud-contract.test.ts)",
);

// The same promises the simulator keeps, kept by Ec2Cloud against moto_server: an EC2
// emulator we did not write keeps the simulator honest.
describe.skipIf(!motoBin)("moto_server", () => {
  describeCloudContract("Ec2Cloud on moto_server", async () => {
    const moto = await startMotoServer(motoBin ?? "");
    const client = testEc2Client(moto.url);
    const vpc = await createTestVpc(client);
    return {
      cloud: new Ec2Cloud({
        client,
        fleet: "contract",
        network: { vpcId: vpc.vpcId, egress: "nat" },
      }),
      vpcCidr: "10.0.0.0/16",
      zone: vpc.availabilityZone,
      stop: () => moto.stop(),
    };
  });
});
