import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFleet } from "../../src/config/load-fleet.js";
import { readSettings } from "../../src/config/settings.js";
import type { ReconcilerOptions } from "../../src/fleet/reconciler.js";
import type { Schedule } from "../../src/fleet/scheduled-task.js";
import { OctokitGitHub } from "../../src/github/octokit-github.js";
import { type Running, serve } from "../../src/main.js";
import type { SimEc2Options } from "../../src/sim/ec2/sim-ec2.js";
import type { SimGitHubOptions } from "../../src/sim/github/start-sim-github.js";
import { type SimWorld, startSimWorld } from "../../src/sim/world/start-sim-world.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import { FAST } from "../github/adapter.js";
import { memoryLogger } from "./fixtures.js";

export const WORLD_FLEET_YAML = `
fleet: world
network:
  vpcId: vpc-0511
  runnerCidr: 10.0.128.0/20
  availabilityZones: [eu-west-1a, eu-west-1b]
  idleSubnets: 4
limits: { maxRunners: 40, githubRequestsPerHour: 50000, ec2LaunchesPerSecond: 20 }
pools:
  - { name: linux, labels: [mayfly-2cpu], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 40 }
`;

export interface ControllerInWorld {
  readonly world: SimWorld;
  readonly running: Running;
  readonly log: ReturnType<typeof memoryLogger>;
  /** The controller's base URL, and the admin token its /api and /metrics take. */
  readonly url: string;
  readonly adminToken: string;
  /** Queues a job for the fleet's pool; resolves to its ID. */
  queue(durationMs?: number): Promise<number>;
  /** Resolves once every job the world has is completed, or rejects after `timeoutMs`. */
  allCompleted(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real controller (`serve`: HTTP intake, embedded ledger, dispatcher, reaper, subnet
 * keeper, reconciler) between a simulated GitHub and EC2 whose runner VMs boot and run jobs.
 */
export interface WorldOptions {
  /** A cron expression, or a HandSchedule the test ticks (test/support/hand-schedule.ts). */
  readonly reconcileSchedule?: string | Schedule;
  readonly reconciler?: Partial<ReconcilerOptions>;
  /** The fleet file; default WORLD_FLEET_YAML. */
  readonly fleetYaml?: string;
  readonly github?: SimGitHubOptions;
  /** Options of the simulated EC2 (faults, throttles, latency). */
  readonly ec2?: SimEc2Options;
  /** PostgreSQL instead of a fresh embedded database. */
  readonly databaseUrl?: string;
  /** A world already running (a second replica joins it). */
  readonly world?: SimWorld;
}

export async function controllerInWorld(options: WorldOptions = {}): Promise<ControllerInWorld> {
  const ownWorld = options.world === undefined;
  const world =
    options.world ??
    (await startSimWorld({
      ...(options.github ? { github: options.github } : {}),
      bootMs: 100,
      idleTimeoutMs: 5000,
      ec2: { vpcId: "vpc-0511", pendingMs: 50, shuttingDownMs: 50, ...options.ec2 },
    }));
  const log = memoryLogger("info");
  const dataDir = mkdtempSync(join(tmpdir(), "mayfly-world-"));
  const secret = randomBytes(16).toString("hex");
  const adminToken = randomBytes(32).toString("hex");
  const certFile = join(dataDir, "identity-cert.pem");
  writeFileSync(certFile, world.identityCertificatePem);
  const settings = readSettings({
    GITHUB_WEBHOOK_SECRET: secret,
    GITHUB_APP_ID: String(world.github.appId),
    GITHUB_APP_PRIVATE_KEY: world.github.privateKey.reveal(),
    GITHUB_API_URL: world.github.url,
    MAYFLY_DATA_DIR: dataDir,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    MAYFLY_PORT: "0",
    MAYFLY_EC2_IDENTITY_CERT_FILE: certFile,
    MAYFLY_ADMIN_TOKEN: adminToken,
  });
  const fleet = parseFleet(options.fleetYaml ?? WORLD_FLEET_YAML, "world.yaml");
  const running = await serve(
    { settings, fleet, fleetPath: "world.yaml" },
    {
      logger: log.logger,
      github: new OctokitGitHub({
        appId: world.github.appId,
        privateKey: world.github.privateKey,
        baseUrl: world.github.url,
        logger: log.logger,
        tuning: FAST,
      }),
      ec2: testEc2Client(world.ec2.url, 5),
      loops: { dispatchMs: 100, reapMs: 250, concurrency: 16 },
      ...(options.reconcileSchedule ? { reconcileSchedule: options.reconcileSchedule } : {}),
      ...(options.reconciler ? { reconciler: options.reconciler } : {}),
    },
  );
  const address = running.app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  world.connect({ url: `http://127.0.0.1:${port}/webhook`, secret });
  let n = 0;
  return {
    world,
    running,
    log,
    url: `http://127.0.0.1:${port}`,
    adminToken,
    queue: (durationMs = 200) =>
      world.queueJob({
        repository: "example-org/app",
        labels: ["self-hosted", "linux", "x64", "mayfly-2cpu"],
        durationMs,
        name: `job-${++n}`,
      }),
    async allCompleted(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (world.jobs().some((j) => j.status !== "completed")) {
        if (Date.now() > deadline) {
          const left = world.jobs().filter((j) => j.status !== "completed");
          throw new Error(`${left.length} jobs not completed: ${left.map((j) => j.id).join(", ")}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await running.stop();
      if (ownWorld) await world.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
