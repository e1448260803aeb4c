import { z } from "zod";
import type { RepositoryCaps } from "../core/repository-caps.js";
import type { RepositoryLimits } from "../core/repository-share.js";
import type { UsagePrices } from "../core/usage-cost.js";
import { PLACEHOLDER_URL_CHARS, userDataHeadroom } from "../fleet/user-data.js";
import { USER_DATA_LIMIT_BYTES } from "../runner-vm/render-user-data.js";
import { durationSeconds } from "./duration.js";

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,38}$/, "use 1-39 lowercase letters, digits or dashes");

// GitHub runner labels: no whitespace, at most 100 characters each.
const label = z.string().min(1).max(100).regex(/^\S+$/, "a label has no whitespace");

const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, "expected an IPv4 CIDR such as 10.0.128.0/17");

// An operator hook is a script of its own, run from a root-only file, never spliced into
// the boot script's shell code.
const hookScript = z
  .string()
  .max(8192)
  .regex(/^#!\S+/, "a hook script starts with an interpreter line such as #!/bin/bash");

// The runner runs job hooks with `bash -e FILE`, whatever their #! line says, so a Python
// job hook would fail every job:
// https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/running-scripts-before-or-after-a-job
const jobHookScript = hookScript.regex(
  /^#!\s*\S*\/(env\s+)?(ba)?sh(\s|$)/,
  "the runner runs job hooks with bash: start them with #!/bin/bash or #!/bin/sh",
);

const hooksSchema = z
  .object({
    boot: hookScript
      .optional()
      .describe("run as root before the runner starts; a failure powers the VM off"),
    jobStarted: jobHookScript
      .optional()
      .describe("the runner's job-started hook, run as the runner user before each job"),
    jobCompleted: jobHookScript
      .optional()
      .describe("the runner's job-completed hook, run as the runner user after the job"),
  })
  .strict();

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
    rootDevice: z
      .string()
      .regex(/^\/dev\/[a-z0-9]+$/, "expected a device name such as /dev/sda1 or /dev/xvda")
      .default("/dev/sda1")
      .describe("the image's root device: /dev/sda1 on Ubuntu, /dev/xvda on Amazon Linux"),
    volumeKmsKeyId: z
      .string()
      .regex(
        /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|alias\/[A-Za-z0-9/_-]+|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$/,
        "expected a KMS key ARN, key ID or alias",
      )
      .optional()
      .describe(
        "the KMS key runner root volumes are encrypted with (Terraform renders its launch template's key here); absent: the account's EBS default key",
      ),
    market: z.enum(["spot", "on-demand", "spot-then-on-demand"]).default("on-demand"),
    maxRunners: z.number().int().positive(),
    maxRunnersPerRepository: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "live VMs one repository may have in this pool; its other jobs wait while repositories take turns; absent: limits.maxRunnersPerRepository",
      ),
    runnerGroupId: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "the runner group runners register in (absent: the Default group, 1); a pool with repositories at org level gets a group of its own from mayfly instead",
      ),
    registration: z.enum(["org", "repo"]).default("org"),
    idleTimeout: durationSeconds.default(600),
    bootTimeout: durationSeconds
      .default(180)
      .describe(
        "a VM that has not asked for its assignment this long after launch is ended and its job launched again",
      ),
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
    publicRepositories: z
      .enum(["deny", "allow"])
      .default("deny")
      .describe(
        "jobs of public repositories: a fork's pull request runs its code on the runner, so they are not served unless allowed",
      ),
    hooks: hooksSchema.optional().describe("operator scripts the runner VM runs"),
    operatorAccess: z
      .boolean()
      .default(false)
      .describe("keep the SSM agent and serial-console logins on the VM (stopped by default)"),
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
    // "none" stays in the enum so that it is refused with its reason, not as a typo: runner
    // VMs pull their runner credential from the controller (DESIGN.md, "The assignment
    // endpoint"), through this same path.
    egress: z
      .enum(["nat", "direct", "none"])
      .refine((egress) => egress !== "none", {
        message:
          '"none": runner VMs could not reach the controller\'s assignment endpoint to fetch their runner credential; use nat or direct',
      })
      .default("nat")
      .describe(
        "the runner subnets' internet path (nat or direct), which is also the runner VMs' way to the controller's assignment endpoint; none is refused",
      ),
    routeTableId: z
      .string()
      .regex(/^rtb-[0-9a-f]+$/, "expected a route table ID such as rtb-0abc123")
      .optional()
      .describe("associated with every runner subnet; absent: the VPC's main route table"),
    networkAclId: z
      .string()
      .regex(/^acl-[0-9a-f]+$/, "expected a network ACL ID such as acl-0abc123")
      .optional()
      .describe("the isolating ACL (Terraform's); absent: mayfly creates and tags its own"),
    securityGroupIds: z
      .array(z.string().regex(/^sg-[0-9a-f]+$/, "expected a security group ID such as sg-0abc"))
      .optional()
      .describe("for runner VMs when no launch template names them"),
    subnetIdleTtl: durationSeconds
      .default(900)
      .describe("a free subnet beyond idleSubnets is deleted after this long unused"),
  })
  .strict();

const limitsSchema = z
  .object({
    maxRunners: z.number().int().positive().default(100),
    maxRunnersPerRepository: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "live VMs one repository may have in a pool without its own maxRunnersPerRepository; absent: no cap",
      ),
    githubRequestsPerHour: z.number().int().positive().default(4000),
    ec2LaunchesPerSecond: z.number().positive().default(2),
    // AWS's RunInstances resource bucket holds 1000 instances per account and Region.
    ec2LaunchBurst: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe("launches that may go at once before ec2LaunchesPerSecond paces them"),
    launchGrace: durationSeconds
      .default(120)
      .describe(
        "how long a launch may be in flight before a missing VM or record counts as lost; the reconciler ends a VM whose runner never took its job at the pool's idleTimeout plus this",
      ),
    // A job GitHub never routes to our runner (a runner group or label it will not match)
    // would otherwise get a new VM every idle timeout for as long as it stays queued.
    maxLaunchesPerJob: z
      .number()
      .int()
      .positive()
      .default(3)
      .describe("VMs started for one job at most; then mayfly gives the job up"),
  })
  .strict();

const retentionSchema = z
  .object({
    deliveries: durationSeconds
      .default(3 * 86400)
      .describe("webhook delivery IDs, kept for dedup and lost-delivery recovery"),
    jobs: durationSeconds
      .default(90 * 86400)
      .describe("completed jobs and their terminated VMs, from completion"),
    usage: durationSeconds
      .default(730 * 86400)
      .describe("usage and cost rows (one per VM), from the day of launch"),
  })
  .strict();

const priceSchema = z
  .object({
    onDemand: z.number().nonnegative().describe("USD per hour"),
    spot: z.number().nonnegative().optional().describe("USD per hour"),
    vcpus: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "vCPUs of the type; absent: read off the size name (large 2, xlarge 4, Nxlarge 4N)",
      ),
  })
  .strict();

// GitHub-hosted Linux runners, USD per minute by cores, from 2026-01-01 (FIELD-NOTES.md).
// https://docs.github.com/en/billing/reference/actions-runner-pricing
const HOSTED_PRICES = { "2": 0.006, "4": 0.012, "8": 0.022 };

/** The fleet file: pools, network, limits, retention and prices. */
export const fleetSchema = z
  .object({
    fleet: name.describe("tags every cloud resource mayfly owns"),
    bindingLabelPrefix: label.default("mayfly-run-"),
    installations: z
      .array(
        z.union([
          z.number().int().positive(),
          z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "expected an organisation login"),
        ]),
      )
      .min(1)
      .optional()
      .describe(
        "the App installations (IDs) or organisations (logins) whose jobs are ours; absent: every installation of the App",
      ),
    launchTemplate: z
      .string()
      .regex(/^[a-zA-Z0-9()./_-]{3,128}$/, "expected a launch template name")
      .optional()
      .describe("the launch template (Terraform's) every runner VM starts from"),
    network: networkSchema,
    limits: limitsSchema.default(() => limitsSchema.parse({})),
    retention: retentionSchema.default(() => retentionSchema.parse({})),
    prices: z.record(z.string(), priceSchema).default({}),
    hostedPrices: z
      .record(
        z.string().regex(/^[1-9][0-9]*$/, "expected a number of cores"),
        z.number().nonnegative(),
      )
      .default(HOSTED_PRICES)
      .describe("GitHub-hosted Linux runners, USD per minute by cores, for cost comparisons"),
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
      userDataFits(pool, index, ctx);
      if (
        pool.repositories !== undefined &&
        pool.registration === "org" &&
        pool.runnerGroupId !== undefined
      ) {
        ctx.addIssue({
          code: "custom",
          path: ["pools", index, "runnerGroupId"],
          message:
            "a pool with repositories registers its runners in a runner group of its own, which mayfly keeps to those repositories: leave runnerGroupId out",
        });
      }
      if (pool.maxRunners > fleet.limits.maxRunners) {
        ctx.addIssue({
          code: "custom",
          path: ["pools", index, "maxRunners"],
          message: `exceeds limits.maxRunners (${fleet.limits.maxRunners})`,
        });
      }
      if ((pool.maxRunnersPerRepository ?? 0) > pool.maxRunners) {
        ctx.addIssue({
          code: "custom",
          path: ["pools", index, "maxRunnersPerRepository"],
          message: `exceeds the pool's maxRunners (${pool.maxRunners}), so it would never hold a repository back`,
        });
      }
    });
    // A fleet-wide value above a small pool's maxRunners is a default and binds the larger
    // pools; above limits.maxRunners it binds none.
    if ((fleet.limits.maxRunnersPerRepository ?? 0) > fleet.limits.maxRunners) {
      ctx.addIssue({
        code: "custom",
        path: ["limits", "maxRunnersPerRepository"],
        message: `exceeds limits.maxRunners (${fleet.limits.maxRunners}), so it would never hold a repository back`,
      });
    }
    const rangeBits = Number(fleet.network.runnerCidr.split("/")[1]);
    if (rangeBits > fleet.network.subnetPrefixLength) {
      ctx.addIssue({
        code: "custom",
        path: ["network", "subnetPrefixLength"],
        message: `a /${fleet.network.subnetPrefixLength} subnet does not fit in ${fleet.network.runnerCidr}`,
      });
    }
  });

// EC2 takes at most 16 KB of user data and hooks may be 8 KB each: a pool whose VMs could
// never start is refused here rather than at its first job.
function userDataFits(pool: PoolConfig, index: number, ctx: z.RefinementCtx): void {
  const path = pool.hooks === undefined ? ["pools", index] : ["pools", index, "hooks"];
  try {
    const { bytes, headroom } = userDataHeadroom(pool);
    if (headroom < 0)
      ctx.addIssue({
        code: "custom",
        path,
        message: `the runner VM's user data would be ${bytes} bytes (with a ${PLACEHOLDER_URL_CHARS}-character assignment URL), ${-headroom} bytes over EC2's ${USER_DATA_LIMIT_BYTES}-byte limit: shorten the hooks`,
      });
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      path,
      message: `cannot render the runner VM's user data: ${(error as Error).message}`,
    });
  }
}

export type FleetConfig = z.output<typeof fleetSchema>;
export type PoolConfig = z.output<typeof poolSchema>;

/** The price tables that usage is costed with. */
export function usagePricesOf(fleet: FleetConfig): UsagePrices {
  return { byType: fleet.prices, hosted: fleet.hostedPrices };
}

/** Each pool's maxRunnersPerRepository and the fleet's, for the dispatcher and the reports. */
export function repositoryCapsOf(fleet: FleetConfig): RepositoryCaps {
  const byPool = new Map<string, number>();
  for (const pool of fleet.pools)
    if (pool.maxRunnersPerRepository !== undefined)
      byPool.set(pool.name, pool.maxRunnersPerRepository);
  const { maxRunnersPerRepository: fleetCap } = fleet.limits;
  return fleetCap === undefined ? { byPool } : { byPool, fleet: fleetCap };
}

/** The pools, in order, with their per-repository caps: for metrics and `mayfly jobs`. */
export function repositoryLimitsOf(fleet: FleetConfig): RepositoryLimits {
  return { pools: fleet.pools.map((p) => p.name), caps: repositoryCapsOf(fleet) };
}

/** JSON Schema of the fleet file, for editors; generated from the same zod schema. */
export function fleetJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(fleetSchema, { io: "input", unrepresentable: "any" }),
    title: "mayfly fleet configuration",
  };
}
