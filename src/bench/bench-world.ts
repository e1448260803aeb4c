import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_VPC } from "../demo/demo-fleet.js";
import type { RateLimitOptions } from "../sim/github/rate-limits.js";
import { type SimWorld, startSimWorld } from "../sim/world/start-sim-world.js";
import { classifyEc2, classifyGitHub, classifyWebhook } from "./classify.js";
import { type ControllerProcess, startController } from "./controller-process.js";
import { freePort } from "./free-port.js";
import { type ProxyRecord, type RecordingProxy, startRecordingProxy } from "./recording-proxy.js";

export const BENCH_FLEET = "bench";
export const BENCH_LABELS = ["self-hosted", "linux", "x64", "mayfly-2cpu"];

/** One controller between a simulated GitHub and EC2, every wire watched by a proxy. */
export interface WorldSetup {
  /** PostgreSQL URL; absent: PGlite in a temp dir. */
  readonly databaseUrl?: string;
  readonly bootMs: number;
  readonly githubLatencyMs: number;
  readonly ec2LatencyMs: number;
  readonly githubLimits?: Partial<RateLimitOptions>;
  /** EC2 request-token buckets per action. */
  readonly ec2Throttle?: Readonly<Record<string, { capacity: number; refillPerSecond: number }>>;
  /** MAYFLY_GITHUB_WRITE_SPACING_MS. */
  readonly writeSpacingMs: number;
  readonly limits: {
    githubRequestsPerHour: number;
    ec2LaunchesPerSecond: number;
    ec2LaunchBurst: number;
    maxRunners: number;
  };
  /** Runner subnets made before the load starts (idleSubnets). */
  readonly idleSubnets: number;
}

export interface BenchWorld {
  readonly world: SimWorld;
  readonly controller: ControllerProcess;
  readonly github: RecordingProxy;
  readonly ec2: RecordingProxy;
  readonly webhooks: RecordingProxy;
  /** Called for each request EC2 receives (after the warm-up). */
  onEc2: (record: ProxyRecord) => void;
  /** Record counts at the end of the warm-up: later records are the measured ones. */
  readonly mark: { github: number; ec2: number; webhooks: number };
  stop(): Promise<void>;
}

const fleetYaml = (s: WorldSetup) => `
fleet: ${BENCH_FLEET}
network:
  vpcId: ${DEMO_VPC.vpcId}
  runnerCidr: 10.0.128.0/17
  availabilityZones: [eu-west-1a, eu-west-1b]
  maxSubnets: 2048
  idleSubnets: ${s.idleSubnets}
limits:
  maxRunners: ${s.limits.maxRunners}
  githubRequestsPerHour: ${s.limits.githubRequestsPerHour}
  ec2LaunchesPerSecond: ${s.limits.ec2LaunchesPerSecond}
  ec2LaunchBurst: ${s.limits.ec2LaunchBurst}
pools:
  - name: linux
    labels: [mayfly-2cpu]
    instanceTypes: [c7i.large]
    image: ami-0123456789abcdef0
    market: on-demand
    maxRunners: ${s.limits.maxRunners}
`;

/**
 * Starts the world, the proxies and `mayfly serve` in a child process, then waits until the
 * controller has made its idle subnets (with no latency) before the latencies apply.
 */
export async function startBenchWorld(setup: WorldSetup): Promise<BenchWorld> {
  const dir = mkdtempSync(join(tmpdir(), "mayfly-bench-"));
  const world = await startSimWorld({
    bootMs: setup.bootMs,
    idleTimeoutMs: 60_000,
    ...(setup.githubLimits ? { github: { rateLimits: setup.githubLimits } } : {}),
    ec2: {
      ...DEMO_VPC,
      // One VM per subnet: at 50 jobs/s and a 20 s boot the VPC needs a raised quota (AWS: 200).
      subnetLimit: 2100,
      pendingMs: 500,
      shuttingDownMs: 500,
      ...(setup.ec2Throttle ? { throttle: setup.ec2Throttle } : {}),
    },
  });
  const hooks = { onEc2: (_r: ProxyRecord) => {} };
  let warm = false;
  const github = await startRecordingProxy({ target: world.github.url, classify: classifyGitHub });
  const ec2 = await startRecordingProxy({
    target: world.ec2.url,
    classify: classifyEc2,
    onRequest: (r) => {
      if (warm) hooks.onEc2(r);
    },
  });
  const secret = randomBytes(24).toString("hex");
  writeFileSync(join(dir, "fleet.yaml"), fleetYaml(setup));
  writeFileSync(join(dir, "identity-cert.pem"), world.identityCertificatePem);
  const port = await freePort();
  const controller = await startController(
    {
      GITHUB_WEBHOOK_SECRET: secret,
      GITHUB_APP_ID: String(world.github.appId),
      GITHUB_APP_PRIVATE_KEY: world.github.privateKey.reveal(),
      GITHUB_API_URL: github.url,
      MAYFLY_DATA_DIR: join(dir, "data"),
      ...(setup.databaseUrl ? { DATABASE_URL: setup.databaseUrl } : {}),
      MAYFLY_CONFIG: join(dir, "fleet.yaml"),
      MAYFLY_EC2_IDENTITY_CERT_FILE: join(dir, "identity-cert.pem"),
      MAYFLY_GITHUB_WRITE_SPACING_MS: String(setup.writeSpacingMs),
      AWS_ENDPOINT_URL_EC2: ec2.url,
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
      AWS_EC2_METADATA_DISABLED: "true",
      HOME: dir,
    },
    port,
    join(dir, "controller.log"),
  );
  const webhooks = await startRecordingProxy({
    target: controller.url,
    classify: classifyWebhook,
  });
  world.connect({ url: `${webhooks.url}/webhook`, secret });
  const deadline = Date.now() + 180_000;
  while (world.ec2.subnets().length < setup.idleSubnets) {
    if (Date.now() > deadline) {
      await controller.stop();
      await world.stop();
      throw new Error(`idle subnets not made; see ${dir}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // Let the keeper's round and the reconciler's first pass settle.
  await new Promise((r) => setTimeout(r, 1000));
  github.setLatency(() => setup.githubLatencyMs);
  ec2.setLatency(() => setup.ec2LatencyMs);
  warm = true;
  const bench: BenchWorld = {
    world,
    controller,
    github,
    ec2,
    webhooks,
    get onEc2() {
      return hooks.onEc2;
    },
    set onEc2(fn) {
      hooks.onEc2 = fn;
    },
    mark: {
      github: github.records.length,
      ec2: ec2.records.length,
      webhooks: webhooks.records.length,
    },
    async stop() {
      await controller.stop();
      await world.stop();
      await Promise.all([github.stop(), ec2.stop(), webhooks.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return bench;
}
