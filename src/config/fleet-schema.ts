import { z } from "zod";
import { durationSeconds } from "./duration.js";

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,38}$/, "use 1-39 lowercase letters, digits or dashes");

// GitHub runner labels: no whitespace, at most 100 characters each.
const label = z.string().min(1).max(100).regex(/^\S+$/, "a label has no whitespace");

const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, "expected an IPv4 CIDR such as 10.0.128.0/17");

/** One runner pool: which jobs it serves and the VMs it starts for them. */
export const poolSchema = z
  .object({
    name,
    labels: z.array(label).min(1),
    instanceTypes: z
      .array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, "expected an EC2 instance type"))
      .min(1)
      .describe("tried in this order when capacity is short"),
    image: z
      .string()
      .regex(/^(ami-[0-9a-f]{8,17}|ssm:\/.+)$/, 'expected an AMI ID or "ssm:/parameter/name"'),
    architecture: z.enum(["x64", "arm64"]).default("x64"),
    diskGiB: z.number().int().min(8).max(16384).default(30),
    market: z.enum(["spot", "on-demand", "spot-then-on-demand"]).default("on-demand"),
    maxRunners: z.number().int().positive(),
    runnerGroupId: z.number().int().positive().default(1),
    registration: z.enum(["org", "repo"]).default("org"),
    idleTimeout: durationSeconds.default(600),
    maxLifetime: durationSeconds.default(6 * 3600),
    repositories: z
      .array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected "owner/repo"'))
      .optional()
      .describe("only these repositories may use the pool; absent means all"),
    runner: z
      .object({
        tarballUrl: z
          .url({ protocol: /^https$/ })
          .describe("the actions runner tarball, for images without it"),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits"),
      })
      .strict()
      .optional()
      .describe("absent: the image has the runner in /opt/actions-runner"),
    acceptDefaultLabelsOnly: z
      .boolean()
      .default(false)
      .describe("serve jobs that ask only for self-hosted/OS/architecture labels"),
  })
  .strict();

const networkSchema = z
  .object({
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, "expected a VPC ID such as vpc-0abc123"),
    runnerCidr: cidr.describe("the range runner subnets are carved from"),
    subnetPrefixLength: z.number().int().min(16).max(28).default(28),
    availabilityZones: z.array(z.string().min(1)).min(1),
    maxSubnets: z.number().int().min(1).max(10_000).default(200),
    idleSubnets: z.number().int().min(0).default(2),
    egress: z.enum(["nat", "direct", "none"]).default("nat"),
  })
  .strict();

const limitsSchema = z
  .object({
    maxRunners: z.number().int().positive().default(100),
    githubRequestsPerHour: z.number().int().positive().default(4000),
    ec2LaunchesPerSecond: z.number().positive().default(2),
  })
  .strict();

const retentionSchema = z
  .object({
    deliveries: durationSeconds.default(3 * 86400),
    jobs: durationSeconds.default(90 * 86400),
    usage: durationSeconds.default(730 * 86400),
  })
  .strict();

const priceSchema = z
  .object({
    onDemand: z.number().nonnegative().describe("USD per hour"),
    spot: z.number().nonnegative().optional().describe("USD per hour"),
  })
  .strict();

/** The fleet file: pools, network, limits, retention and prices. */
export const fleetSchema = z
  .object({
    fleet: name.describe("tags every cloud resource mayfly owns"),
    bindingLabelPrefix: label.default("mayfly-run-"),
    network: networkSchema,
    limits: limitsSchema.default(() => limitsSchema.parse({})),
    retention: retentionSchema.default(() => retentionSchema.parse({})),
    prices: z.record(z.string(), priceSchema).default({}),
    pools: z.array(poolSchema).min(1),
  })
  .strict()
  .superRefine((fleet, ctx) => {
    const seen = new Set<string>();
    fleet.pools.forEach((pool, index) => {
      if (seen.has(pool.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["pools", index, "name"],
          message: `pool name "${pool.name}" is used twice`,
        });
      }
      seen.add(pool.name);
      if (pool.maxRunners > fleet.limits.maxRunners) {
        ctx.addIssue({
          code: "custom",
          path: ["pools", index, "maxRunners"],
          message: `exceeds limits.maxRunners (${fleet.limits.maxRunners})`,
        });
      }
    });
    const rangeBits = Number(fleet.network.runnerCidr.split("/")[1]);
    if (rangeBits > fleet.network.subnetPrefixLength) {
      ctx.addIssue({
        code: "custom",
        path: ["network", "subnetPrefixLength"],
        message: `a /${fleet.network.subnetPrefixLength} subnet does not fit in ${fleet.network.runnerCidr}`,
      });
    }
  });

export type FleetConfig = z.output<typeof fleetSchema>;
export type PoolConfig = z.output<typeof poolSchema>;

/** JSON Schema of the fleet file, for editors; generated from the same zod schema. */
export function fleetJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(fleetSchema, { io: "input", unrepresentable: "any" }),
    title: "mayfly fleet configuration",
  };
}
