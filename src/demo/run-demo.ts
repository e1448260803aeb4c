import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEc2Client } from "../cloud/ec2/ec2-client.js";
import { parseFleet } from "../config/load-fleet.js";
import { readSettings } from "../config/settings.js";
import { parseRunnerName } from "../core/runner-name.js";
import { OctokitGitHub } from "../github/octokit-github.js";
import type { Ledger } from "../ledger/ledger.js";
import { createLogger } from "../log/logger.js";
import { serve } from "../main.js";
import {
  type SimWorld,
  startSimWorld,
  type WorldEc2,
  type WorldVm,
} from "../sim/world/start-sim-world.js";
import { createDemoVpc } from "./create-demo-vpc.js";
import { DEMO_VPC, demoFleetYaml } from "./demo-fleet.js";
import { type DemoFigures, demoReport } from "./demo-report.js";

export interface DemoIo {
  readonly out: (text: string) => void;
  /** A live progress line (overwritten in place on a terminal). */
  readonly progress: (text: string) => void;
}

/** What to run; every field has the demo's usual value as default. */
export interface DemoOptions {
  /** An external EC2 endpoint (e.g. moto_server) instead of the built-in EC2 sim. */
  readonly ec2Endpoint?: string;
  /** Jobs queued at once, then one every 100 ms; defaults 40 and 60. */
  readonly burst?: number;
  readonly trickle?: number;
  /** How long the jobs may take to finish; default 100 s. */
  readonly deadlineMs?: number;
  /**
   * Handed the figures, every VM seen, the ledger and the controller's address and admin
   * token, before the report is printed and while the controller still serves.
   */
  readonly onFinished?: (result: DemoResult) => void | Promise<void>;
  /**
   * Called once the controller serves, before any job is queued; it runs beside the demo,
   * which waits for it before stopping the controller.
   */
  readonly onServing?: (
    controller: Omit<DemoResult, "figures" | "vms" | "issuedJitConfigs" | "logPath" | "dataDir">,
  ) => Promise<void>;
}

/** What a demo run hands `onFinished`. */
export interface DemoResult {
  readonly figures: DemoFigures;
  readonly vms: readonly WorldVm[];
  readonly ledger: Ledger;
  /** The controller's base URL, e.g. http://127.0.0.1:PORT. */
  readonly url: string;
  readonly adminToken: string;
  /** Every JIT config the simulated GitHub issued: none may be stored, logged or in user data. */
  readonly issuedJitConfigs: readonly string[];
  /** The controller's log file, and its embedded database's directory. */
  readonly logPath: string;
  readonly dataDir: string;
}

const REPOSITORIES = ["example-org/web", "example-org/api", "example-org/infra"];
// Dummy keys: the EC2 sim and moto_server accept any signature.
const DEMO_KEYS = { accessKeyId: "demo", secretAccessKey: "demo" };

/**
 * The whole system on this machine: embedded database in a temp dir, simulated GitHub and
 * EC2 (runner VMs boot, take a job, run it, power off), and the controller serving them.
 * Resolves to 0 only if every job was served and no VM is left running.
 */
export async function runDemo(io: DemoIo, options: DemoOptions = {}): Promise<number> {
  const started = Date.now();
  const endpoint = options.ec2Endpoint;
  let vpcId: string = DEMO_VPC.vpcId;
  if (endpoint !== undefined) {
    const setup = createEc2Client({ endpoint, region: "eu-west-1", credentials: DEMO_KEYS });
    try {
      vpcId = await createDemoVpc(setup, endpoint);
    } finally {
      setup.destroy();
    }
  }
  const world = await startDemoWorld(endpoint);
  const dir = mkdtempSync(join(tmpdir(), "mayfly-demo-"));
  const secret = randomBytes(24).toString("hex");
  const adminToken = randomBytes(24).toString("hex");
  // The controller trusts the simulated EC2's identity certificate instead of AWS's.
  const certFile = join(dir, "identity-cert.pem");
  writeFileSync(certFile, world.identityCertificatePem);
  const settings = readSettings({
    GITHUB_WEBHOOK_SECRET: secret,
    GITHUB_APP_ID: String(world.github.appId),
    GITHUB_APP_PRIVATE_KEY: world.github.privateKey.reveal(),
    GITHUB_API_URL: world.github.url,
    MAYFLY_DATA_DIR: join(dir, "data"),
    MAYFLY_ADMIN_TOKEN: adminToken,
    MAYFLY_PORT: "0",
    MAYFLY_EC2_IDENTITY_CERT_FILE: certFile,
  });
  const fleet = parseFleet(demoFleetYaml(vpcId), "demo fleet");
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
  const ec2Client = createEc2Client({
    endpoint: world.ec2.url,
    region: "eu-west-1",
    credentials: DEMO_KEYS,
  });
  // Every attempt counts, retried ones included (the deserialize step runs once per attempt).
  let ec2Calls = 0;
  ec2Client.middlewareStack.add(
    (next) => (args) => {
      ec2Calls += 1;
      return next(args);
    },
    { step: "deserialize", name: "demoCallCounter" },
  );
  const running = await serve(
    { settings, fleet, fleetPath: "demo fleet" },
    {
      logger,
      github,
      ec2: ec2Client,
      loops: { dispatchMs: 200, reapMs: 500, concurrency: 16 },
      // Every 2 s rather than every minute, so the lost deliveries are found within the demo.
      reconcileSchedule: "*/2 * * * * *",
    },
  );
  let code = 1;
  let serving: Promise<void> | undefined;
  try {
    const address = running.app.server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    world.connect({ url: `http://127.0.0.1:${port}/webhook`, secret });
    const url = `http://127.0.0.1:${port}`;
    serving = options.onServing?.({ ledger: running.ledger, url, adminToken });

    const cancelled = await playScenario(world, options.burst ?? 40, options.trickle ?? 60);
    const finished = await waitUntilDone(world, io, options.deadlineMs ?? 100_000);
    // Let the reaper record the last terminations and their usage.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const figures = await figuresOf(world, running.ledger, {
      fleetName: fleet.fleet,
      cancelled,
      startedMs: started,
      ec2Calls,
    });
    await options.onFinished?.({
      figures,
      vms: world.ec2.instances(),
      ledger: running.ledger,
      url,
      adminToken,
      issuedJitConfigs: world.github.issuedJitConfigs(),
      logPath,
      dataDir: settings.dataDir,
    });
    await serving;
    io.out(`\n${demoReport(figures)}\n`);
    code = finished && figures.unserved === 0 && figures.vmsLeft === 0 ? 0 : 1;
    if (code !== 0) io.out(`demo FAILED: controller log kept at ${logPath}`);
  } finally {
    await serving?.catch(() => {});
    await running.stop();
    await world.stop();
    ec2Client.destroy();
    if (code === 0) rmSync(dir, { recursive: true, force: true });
  }
  return code;
}

type DemoWorld = SimWorld<WorldEc2>;

/** The runner VMs live in the EC2 sim, or in an external endpoint the world polls. */
async function startDemoWorld(endpoint: string | undefined): Promise<DemoWorld> {
  const timing = { bootMs: 300, idleTimeoutMs: 3000 };
  if (endpoint !== undefined) return startSimWorld({ ...timing, ec2Endpoint: endpoint });
  return startSimWorld({
    ...timing,
    // A burst of launches meets EC2's request-token bucket: the SDK and our budget pace it.
    ec2: {
      ...DEMO_VPC,
      pendingMs: 100,
      shuttingDownMs: 200,
      throttle: { RunInstances: { capacity: 20, refillPerSecond: 10 } },
    },
  });
}

/** ~100 jobs over two pools and three repositories, with the faults GitHub really has. */
async function playScenario(world: DemoWorld, burst: number, trickle: number): Promise<number[]> {
  const cancelled: number[] = [];
  const queue = (i: number) =>
    world.queueJob({
      repository: REPOSITORIES[i % REPOSITORIES.length] as string,
      labels: ["self-hosted", "linux", "x64", i % 4 === 3 ? "mayfly-8cpu" : "mayfly-2cpu"],
      durationMs: 400 + ((i * 137) % 1600),
      name: `job-${i}`,
      workflowName: "CI",
    });
  for (let i = 0; i < burst; i++) {
    if (i === 5) world.faults({ duplicate: 1 }); // the same delivery twice
    if (i === 12) world.faults({ reorder: 1 }); // the next delivery overtakes this one
    if (i === 20) world.faults({ drop: 2 }); // lost: the reconciler reads the delivery log
    const id = await queue(i);
    if (i === burst - 1) {
      await world.cancelJob(id); // cancelled before any runner took it
      cancelled.push(id);
    }
  }
  for (let i = burst; i < burst + trickle; i++) {
    await queue(i);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return cancelled;
}

async function waitUntilDone(world: DemoWorld, io: DemoIo, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
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
  world: DemoWorld,
  ledger: Pick<Ledger, "usageReport">,
  run: {
    fleetName: string;
    cancelled: readonly number[];
    startedMs: number;
    ec2Calls: number;
  },
): Promise<DemoFigures> {
  const { fleetName, cancelled, startedMs } = run;
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
  const usage = await ledger.usageReport({
    since: new Date(startedMs - 86_400_000),
    by: ["repo"],
  });
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
    ec2Calls: run.ec2Calls,
    vmsLaunched: instances.length,
    vmsTerminated: instances.filter((i) => world.ec2.statusOf(i.instanceId) === "terminated")
      .length,
    vmsLeft: instances.filter((i) => world.ec2.statusOf(i.instanceId) !== "terminated").length,
    stolen: served.filter((j) => parseRunnerName(fleetName, j.runnerName as string)?.jobId !== j.id)
      .length,
    webhooksSent: world.stats().webhooksSent,
    seconds: (Date.now() - startedMs) / 1000,
    usage,
  };
}
