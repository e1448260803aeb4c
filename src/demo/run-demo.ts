import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EC2Client } from "@aws-sdk/client-ec2";
import { Ec2Cloud } from "../cloud/ec2/ec2-cloud.js";
import { parseFleet } from "../config/load-fleet.js";
import { readSettings } from "../config/settings.js";
import { parseRunnerName } from "../core/runner-name.js";
import { OctokitGitHub } from "../github/octokit-github.js";
import { createLogger } from "../log/logger.js";
import { serve } from "../main.js";
import { type SimWorld, startSimWorld } from "../sim/world/start-sim-world.js";
import { DEMO_FLEET_YAML, demoSubnets } from "./demo-fleet.js";
import { type DemoFigures, demoReport } from "./demo-report.js";

export interface DemoIo {
  readonly out: (text: string) => void;
  /** A live progress line (overwritten in place on a terminal). */
  readonly progress: (text: string) => void;
}

const REPOSITORIES = ["example-org/web", "example-org/api", "example-org/infra"];
const BURST = 40;
const TRICKLE = 60;
const DEADLINE_MS = 100_000;

/**
 * The whole system on this machine: embedded database in a temp dir, simulated GitHub and
 * EC2 (runner VMs boot, take a job, run it, power off), and the controller serving them.
 * Resolves to 0 only if every job was served and no VM is left running.
 */
export async function runDemo(io: DemoIo): Promise<number> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "mayfly-demo-"));
  const subnets = demoSubnets();
  const world = await startSimWorld({
    subnets,
    bootMs: 300,
    idleTimeoutMs: 3000,
    // A burst of launches meets EC2's request-token bucket: the SDK and our budget pace it.
    ec2: {
      pendingMs: 100,
      shuttingDownMs: 200,
      throttle: { RunInstances: { capacity: 20, refillPerSecond: 10 } },
    },
  });
  const secret = randomBytes(24).toString("hex");
  const settings = readSettings({
    GITHUB_WEBHOOK_SECRET: secret,
    GITHUB_APP_ID: String(world.github.appId),
    GITHUB_APP_PRIVATE_KEY: world.github.privateKey.reveal(),
    GITHUB_API_URL: world.github.url,
    MAYFLY_DATA_DIR: join(dir, "data"),
    MAYFLY_PORT: "0",
  });
  const fleet = parseFleet(DEMO_FLEET_YAML, "demo fleet");
  const logPath = join(dir, "mayfly.log");
  const logger = createLogger({ level: "info", destination: createWriteStream(logPath) });
  // Writes are spaced 50 ms here, not the 1 s GitHub asks of real Apps, so the demo is short.
  const github = new OctokitGitHub({
    appId: world.github.appId,
    privateKey: world.github.privateKey,
    baseUrl: world.github.url,
    logger,
    tuning: { writeSpacingMs: 50 },
  });
  const ec2Client = new EC2Client({
    endpoint: world.ec2.url,
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDDEMO", secretAccessKey: "demo-not-a-secret" },
    retryMode: "adaptive",
    maxAttempts: 5,
  });
  const running = await serve(
    { settings, fleet, fleetPath: "demo fleet" },
    {
      logger,
      github,
      cloud: new Ec2Cloud({ client: ec2Client, fleet: fleet.fleet }),
      loops: { dispatchMs: 200, reapMs: 500, concurrency: 16 },
    },
  );
  let code = 1;
  try {
    await running.ledger.addSubnets(
      Object.entries(subnets).map(([subnetId, zone], i) => ({
        subnetId,
        availabilityZone: zone,
        cidr: `10.0.${128 + Math.floor(i / 16)}.${(i % 16) * 16}/28`,
      })),
    );
    const address = running.app.server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    world.connect({ url: `http://127.0.0.1:${port}/webhook`, secret });

    const cancelled = await playScenario(world);
    const finished = await waitUntilDone(world, io);
    // Let the reaper record the last terminations and their usage.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const figures = await figuresOf(world, running.ledger, fleet.fleet, cancelled, started);
    io.out(`\n${demoReport(figures)}\n`);
    code = finished && figures.unserved === 0 && figures.vmsLeft === 0 ? 0 : 1;
    if (code !== 0) io.out(`demo FAILED: controller log kept at ${logPath}`);
  } finally {
    await running.stop();
    await world.stop();
    ec2Client.destroy();
    if (code === 0) rmSync(dir, { recursive: true, force: true });
  }
  return code;
}

/** ~100 jobs over two pools and three repositories, with the faults GitHub really has. */
async function playScenario(world: SimWorld): Promise<number[]> {
  const cancelled: number[] = [];
  const queue = (i: number) =>
    world.queueJob({
      repository: REPOSITORIES[i % REPOSITORIES.length] as string,
      labels: ["self-hosted", "linux", "x64", i % 4 === 3 ? "mayfly-8cpu" : "mayfly-2cpu"],
      durationMs: 400 + ((i * 137) % 1600),
      name: `job-${i}`,
      workflowName: "CI",
    });
  for (let i = 0; i < BURST; i++) {
    if (i === 5) world.faults({ duplicate: 1 }); // the same delivery twice
    if (i === 12) world.faults({ reorder: 1 }); // the next delivery overtakes this one
    const id = await queue(i);
    if (i === BURST - 1) {
      await world.cancelJob(id); // cancelled before any runner took it
      cancelled.push(id);
    }
  }
  for (let i = BURST; i < BURST + TRICKLE; i++) {
    await queue(i);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return cancelled;
}

async function waitUntilDone(world: SimWorld, io: DemoIo): Promise<boolean> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const jobs = world.jobs();
    const done = jobs.filter((j) => j.status === "completed").length;
    const running = jobs.filter((j) => j.status === "in_progress").length;
    const up = world.ec2
      .instances()
      .filter((i) => world.ec2.statusOf(i.instanceId) !== "terminated").length;
    io.progress(
      `jobs ${done}/${jobs.length} done, ${running} running, ${jobs.length - done - running} queued; ${up} VMs up`,
    );
    if (done === jobs.length && up === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function figuresOf(
  world: SimWorld,
  ledger: {
    usageByRepository(
      since: Date,
    ): Promise<
      { repository: string; jobs: number; instanceSeconds: number; estimatedCostUsd: number }[]
    >;
  },
  fleetName: string,
  cancelled: readonly number[],
  startedMs: number,
): Promise<DemoFigures> {
  const jobs = world.jobs();
  const instances = world.ec2.instances();
  const firstLaunch = new Map<number, number>();
  for (const vm of instances) {
    const jobId = Number(vm.tags["mayfly:job"]);
    firstLaunch.set(
      jobId,
      Math.min(firstLaunch.get(jobId) ?? Number.POSITIVE_INFINITY, vm.launchedAtMs),
    );
  }
  const served = jobs.filter((j) => j.conclusion === "success" && j.runnerName !== null);
  const usage = await ledger.usageByRepository(new Date(startedMs - 86_400_000));
  return {
    jobs: jobs.length,
    served: served.length,
    cancelled: cancelled.length,
    unserved: jobs.length - served.length - cancelled.length,
    queuedToLaunch: jobs
      .filter((j) => firstLaunch.has(j.id))
      .map((j) => (firstLaunch.get(j.id) as number) - j.createdAt.getTime()),
    queuedToRunning: served.map((j) => (j.startedAt as Date).getTime() - j.createdAt.getTime()),
    githubCalls: world.github.requestCount(),
    ec2Calls: world.ec2.calls(),
    vmsLaunched: instances.length,
    vmsTerminated: instances.filter((i) => world.ec2.statusOf(i.instanceId) === "terminated")
      .length,
    vmsLeft: instances.filter((i) => world.ec2.statusOf(i.instanceId) !== "terminated").length,
    stolen: served.filter((j) => parseRunnerName(fleetName, j.runnerName as string)?.jobId !== j.id)
      .length,
    webhooksSent: world.stats().webhooksSent,
    seconds: (Date.now() - startedMs) / 1000,
    usage: usage.map((u) => ({
      repository: u.repository || "(no job)",
      jobs: u.jobs,
      instanceSeconds: u.instanceSeconds,
      usd: u.estimatedCostUsd,
    })),
  };
}
