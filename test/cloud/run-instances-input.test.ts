import { describe, expect, it } from "vitest";
import { runInstancesInput } from "../../src/cloud/ec2/run-instances-input.js";

const req = {
  pool: "linux",
  jobId: 7,
  runnerName: "mayfly-7-a",
  image: "ami-0123456789abcdef0",
  instanceType: "c7i.large",
  market: "on-demand" as const,
  subnetId: "subnet-0aaa",
  diskGiB: 30,
  userData: "#!/bin/sh\n",
};

describe("runInstancesInput", () => {
  it("starts from the launch template yet keeps isolation explicit in the request", () => {
    const input = runInstancesInput(req, "tok", {
      fleet: "test",
      launchTemplate: "mayfly-runner",
      securityGroupIds: ["sg-0abc"],
    });
    expect(input.LaunchTemplate).toEqual({
      LaunchTemplateName: "mayfly-runner",
      Version: "$Default",
    });
    expect(input.SecurityGroupIds).toEqual(["sg-0abc"]);
    expect(input.MetadataOptions).toMatchObject({
      HttpTokens: "required",
      HttpPutResponseHopLimit: 1,
    });
    expect(input.SubnetId).toBe("subnet-0aaa");
    expect(input.TagSpecifications?.map((t) => t.ResourceType)).toEqual(["instance", "volume"]);
  });

  it("names neither a template nor security groups when none is configured", () => {
    const input = runInstancesInput(req, "tok", { fleet: "test" });
    expect(input).not.toHaveProperty("LaunchTemplate");
    expect(input).not.toHaveProperty("SecurityGroupIds");
  });

  it("sizes and encrypts the image's own root device (/dev/sda1 unless the pool says)", () => {
    const device = (r: typeof req & { rootDevice?: string }) =>
      runInstancesInput(r, "tok", { fleet: "test" }).BlockDeviceMappings;
    expect(device(req)).toEqual([
      {
        DeviceName: "/dev/sda1",
        Ebs: { VolumeSize: 30, VolumeType: "gp3", Encrypted: true, DeleteOnTermination: true },
      },
    ]);
    expect(device({ ...req, rootDevice: "/dev/xvda" })?.[0]?.DeviceName).toBe("/dev/xvda");
  });

  it("names the pool's KMS key for the root volume, which would otherwise replace the template's with the default key", () => {
    const key = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
    const ebs = runInstancesInput({ ...req, volumeKmsKeyId: key }, "tok", { fleet: "test" })
      .BlockDeviceMappings?.[0]?.Ebs;
    expect(ebs).toEqual({
      VolumeSize: 30,
      VolumeType: "gp3",
      Encrypted: true,
      KmsKeyId: key,
      DeleteOnTermination: true,
    });
  });
});
