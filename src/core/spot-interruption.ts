/**
 * Whether the cloud's reason for a VM's end says EC2 took a spot instance back. EC2 reports
 * it in the instance's state reason as `Server.SpotInstanceTermination`:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StateReason.html
 */
export function isSpotInterruption(reason: string | null): boolean {
  return reason?.includes("Server.SpotInstanceTermination") ?? false;
}
