/** The demo's fleet: two pools in two zones, with prices for the usage table. */
export const DEMO_FLEET_YAML = `
fleet: demo
network:
  vpcId: vpc-0de0000000000000d
  runnerCidr: 10.0.128.0/17
  availabilityZones: [eu-west-1a, eu-west-1b]
limits:
  maxRunners: 40
  githubRequestsPerHour: 20000
  ec2LaunchesPerSecond: 10
prices:
  c7i.large: { onDemand: 0.0893, spot: 0.0350 }
  c6i.large: { onDemand: 0.0850, spot: 0.0330 }
  c7i.2xlarge: { onDemand: 0.3570, spot: 0.1400 }
pools:
  - name: linux-2cpu
    labels: [mayfly-2cpu]
    instanceTypes: [c7i.large, c6i.large]
    image: ami-0123456789abcdef0
    market: spot-then-on-demand
    maxRunners: 24
  - name: linux-8cpu
    labels: [mayfly-8cpu]
    instanceTypes: [c7i.2xlarge]
    image: ami-0123456789abcdef0
    market: on-demand
    maxRunners: 8
`;

/** Runner subnets the demo's EC2 has, 24 per zone: subnet ID → zone. */
export function demoSubnets(): Record<string, string> {
  const subnets: Record<string, string> = {};
  for (const zone of ["a", "b"]) {
    for (let i = 0; i < 24; i++)
      subnets[`subnet-0demo${zone}${String(i).padStart(4, "0")}`] = `eu-west-1${zone}`;
  }
  return subnets;
}
