import type { RunInstancesCommandInput } from "@aws-sdk/client-ec2";
import type { LaunchRequest } from "../cloud.js";

/** The tag every VM of a fleet carries; `listOurs` finds VMs by it. */
export const FLEET_TAG = "mayfly:fleet";
export const POOL_TAG = "mayfly:pool";
export const JOB_TAG = "mayfly:job";
export const RUNNER_TAG = "mayfly:runner";

export interface RunInstancesOptions {
  readonly fleet: string;
  /** Launch template name; the request still sets everything isolation depends on. */
  readonly launchTemplate?: string | undefined;
  readonly securityGroupIds?: readonly string[] | undefined;
}

/**
 * EC2 resolves `resolve:ssm:<parameter>` as an image ID at launch, so an `ssm:` image needs
 * no Systems Manager client here.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-systems-manager-parameter-to-find-AMI.html
 */
export function imageIdOf(image: string): string {
  return image.startsWith("ssm:") ? `resolve:ssm:${image.slice(4)}` : image;
}

/** The single RunInstances request that starts one runner VM. */
export function runInstancesInput(
  req: LaunchRequest,
  idempotencyToken: string,
  options: RunInstancesOptions,
): RunInstancesCommandInput {
  const tags = [
    { Key: FLEET_TAG, Value: options.fleet },
    { Key: POOL_TAG, Value: req.pool },
    { Key: JOB_TAG, Value: String(req.jobId) },
    { Key: RUNNER_TAG, Value: req.runnerName },
  ];
  return {
    ImageId: imageIdOf(req.image),
    InstanceType: req.instanceType as RunInstancesCommandInput["InstanceType"],
    MinCount: 1,
    MaxCount: 1,
    SubnetId: req.subnetId,
    // RunInstances takes user data base64-encoded; the SDK does not encode it for us.
    UserData: Buffer.from(req.userData, "utf8").toString("base64"),
    // The same token returns the first launch instead of starting a second VM.
    // https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
    ClientToken: idempotencyToken,
    // Parameters given in the request override the template's, so IMDSv2, the disk and the
    // tags below hold whatever the template says; "$Default" follows Terraform's updates.
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-launch-templates.html
    ...(options.launchTemplate === undefined
      ? {}
      : { LaunchTemplate: { LaunchTemplateName: options.launchTemplate, Version: "$Default" } }),
    ...(options.securityGroupIds === undefined
      ? {}
      : { SecurityGroupIds: [...options.securityGroupIds] }),
    // `shutdown -h now` at the end of the job ends the VM instead of stopping it.
    InstanceInitiatedShutdownBehavior: "terminate",
    // IMDSv2 only, one hop: containers on the VM cannot reach the instance's credentials.
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html
    MetadataOptions: {
      HttpTokens: "required",
      HttpPutResponseHopLimit: 1,
      HttpEndpoint: "enabled",
    },
    BlockDeviceMappings: [
      {
        DeviceName: req.rootDevice ?? "/dev/sda1",
        Ebs: {
          VolumeSize: req.diskGiB,
          VolumeType: "gp3",
          Encrypted: true,
          // A mapping in the request replaces the template's for the same device, key
          // included: the key is named here too, or the account's default key is used.
          ...(req.volumeKmsKeyId === undefined ? {} : { KmsKeyId: req.volumeKmsKeyId }),
          DeleteOnTermination: true,
        },
      },
    ],
    ...(req.market === "spot"
      ? {
          InstanceMarketOptions: {
            MarketType: "spot",
            SpotOptions: {
              SpotInstanceType: "one-time",
              InstanceInterruptionBehavior: "terminate",
            },
          },
        }
      : {}),
    // Tagging at launch is atomic: no VM (or disk) ever exists untagged, so none escapes
    // `listOurs`. https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html
    TagSpecifications: [
      { ResourceType: "instance", Tags: tags },
      { ResourceType: "volume", Tags: tags },
    ],
  };
}
