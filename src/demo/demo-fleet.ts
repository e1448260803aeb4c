/** The demo's VPC in the simulated EC2 (CIDR as createDemoVpc makes one elsewhere); mayfly creates its runner subnets there. */
export const DEMO_VPC = { vpcId: "vpc-0de0000000000000d", vpcCidr: "10.0.0.0/16" } as const;

/** The demo's fleet in a VPC: two pools in two zones, with prices for the usage table. */
export const demoFleetYaml = (vpcId: string): string => `
fleet: demo
network:
  vpcId: ${vpcId}
  runnerCidr: 10.0.128.0/17
  availabilityZones: [eu-west-1a, eu-west-1b]
  idleSubnets: 4
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
