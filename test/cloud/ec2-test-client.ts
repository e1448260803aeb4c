import type { EC2Client } from "@aws-sdk/client-ec2";
import { createEc2Client } from "../../src/cloud/ec2/ec2-client.js";

/** A real EC2 client pointed at a simulated EC2, as main.ts builds it but with dummy keys. */
export function testEc2Client(url: string, maxAttempts = 3): EC2Client {
  return createEc2Client({
    endpoint: url,
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
    maxAttempts,
  });
}
