import { afterEach, describe, expect, it, vi } from "vitest";
import { JOB_TAG, RUNNER_TAG } from "../../src/cloud/ec2/run-instances-input.js";
import type { SimInstance } from "../../src/sim/ec2/sim-ec2.js";
import {
  type SimWorld,
  type SimWorldOptions,
  startSimWorld,
} from "../../src/sim/world/start-sim-world.js";
import { assertNoSharedSubnets } from "../support/assert-no-shared-subnets.js";
import {
  type ControllerInWorld,
  controllerInWorld,
  type WorldOptions,
} from "../support/controller-in-world.js";
import { handSchedule } from "../support/hand-schedule.js";
import { seeded } from "../support/seeded.js";

function fleetYaml(o: { instanceTypes: string; idleTimeout?: string; perHour?: number }): string {
  const idle = o.idleTimeout === undefined ? "" : `, idleTimeout: ${o.idleTimeout}`;
  return `
fleet: world
network:
  vpcId: vpc-0511
  runnerCidr: 10.0.128.0/20
  availabilityZones: [eu-west-1a, eu-west-1b]
  idleSubnets: 4
limits: { maxRunners: 100, githubRequestsPerHour: ${o.perHour ?? 50000}, ec2LaunchesPerSecond: 20 }
pools:
  - { name: linux, labels: [mayfly-2cpu], instanceTypes: ${o.instanceTypes}, image: ami-0123456789abcdef0, maxRunners: 100${idle} }
`;
}

/** The controller in a world started here, for world options the support file does not pass. */
async function inOwnWorld(
  worldOptions: SimWorldOptions,
  options: WorldOptions,
): Promise<{ c: ControllerInWorld; world: SimWorld }> {
  const world = await startSimWorld({
    bootMs: 100,
    idleTimeoutMs: 5000,
    ec2: { vpcId: "vpc-0511", pendingMs: 50, shuttingDownMs: 50 },
    ...worldOptions,
  });
  return { c: await controllerInWorld({ ...options, world }), world };
}

const ours = (world: SimWorld): SimInstance[] =>
  world.ec2.instances().filter((i) => i.tags["mayfly:fleet"] === "world");

/** Launch intents the dispatcher carried out: each ends "runner launched" or "launch failed". */
function intents(lines: string): { launched: number; failed: number } {
  return {
    launched: lines.match(/"msg":"runner launched"/g)?.length ?? 0,
    failed: lines.match(/"msg":"launch failed"/g)?.length ?? 0,
  };
}

async function ledgerConverges(c: ControllerInWorld, timeoutMs: number): Promise<number[]> {
  const jobs = c.world.jobs();
  const open = async () => {
    const states = await Promise.all(jobs.map((j) => c.running.ledger.getJob(j.id)));
    return jobs.filter((_, i) => states[i]?.state !== "completed").map((j) => j.id);
  };
  const deadline = Date.now() + timeoutMs;
  while ((await open()).length > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 250));
  return open();
}

describe("faults, through the real controller", () => {
  let c: ControllerInWorld | undefined;
  let world: SimWorld | undefined;
  afterEach(async () => {
    await c?.stop();
    await world?.stop();
    c = undefined;
    world = undefined;
  });

  it("launches one VM per job when every delivery comes twice and out of order", async () => {
    const JOBS = 60;
    ({ c, world } = await inOwnWorld(
      { random: seeded(1) },
      {
        reconcileSchedule: "*/2 * * * * *",
        fleetYaml: fleetYaml({ instanceTypes: "[c7i.large]" }),
      },
    ));
    // queued, in_progress and completed for every job: all of them twice, each burst shuffled.
    c.world.faults({ duplicate: 3 * JOBS, shuffle: 3 * JOBS });
    for (let i = 0; i < JOBS; i++) await c.queue(300);
    await c.allCompleted(60_000);
    const jobs = c.world.jobs();
    expect(jobs.filter((j) => j.conclusion !== "success")).toEqual([]);
    expect(await ledgerConverges(c, 10_000)).toEqual([]);
    // The last shuffled batch is released up to 300 ms after it was held back.
    const sentBy = Date.now() + 5_000;
    while (c.world.stats().webhooksSent < 2 * 3 * JOBS && Date.now() < sentBy)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.world.stats().webhooksSent).toBe(2 * 3 * JOBS);

    // "One VM per job" when runners can be taken by other jobs (GitHub gives a runner the
    // oldest queued job it fits, not the one it was launched for): each job's VMs in launch
    // order, where the first is its launch and any later one a relaunch. A duplicate or late
    // `queued` must never add a launch: a relaunch is only right once every earlier VM of the
    // job has ended or been taken by another job (the ledger then rebinds it, see
    // ledger/rebind-runner.ts). And every job ran on one VM, every VM ran at most one job.
    const vms = ours(world);
    const ranBy = new Map(jobs.map((j) => [j.runnerName, j.id]));
    const ran = (vm: SimInstance) => ranBy.get(vm.tags[RUNNER_TAG] ?? null);
    const takenElsewhere = (vm: SimInstance) =>
      ran(vm) !== undefined && ran(vm) !== Number(vm.tags[JOB_TAG]);
    const unjustified: string[] = [];
    let relaunches = 0;
    let launched = 0;
    for (const job of jobs) {
      const mine = vms
        .filter((vm) => vm.tags[JOB_TAG] === String(job.id))
        .sort((a, b) => a.launchedAtMs - b.launchedAtMs);
      // A job whose `in_progress` overtook its `queued` was never launched for: fine.
      if (mine.length > 0) launched++;
      for (const [k, later] of mine.entries()) {
        if (k > 0) relaunches++;
        for (const earlier of mine.slice(0, k)) {
          const ended =
            earlier.terminatedAtMs !== null && earlier.terminatedAtMs <= later.launchedAtMs;
          if (!ended && !takenElsewhere(earlier))
            unjustified.push(`${later.instanceId} for job ${job.id} while ${earlier.instanceId}`);
        }
      }
    }
    expect(unjustified).toEqual([]);
    const served = vms.filter((vm) => ran(vm) !== undefined);
    expect(new Set(served.map(ran)).size).toBe(JOBS);
    expect(served).toHaveLength(JOBS);
    // VMs = first launches (at most one per job) + relaunches after steals.
    expect(launched).toBeLessThanOrEqual(JOBS);
    expect(vms).toHaveLength(launched + relaunches);
    // Every VM in a subnet of its own (the worlds' shutting-down time is 50 ms).
    assertNoSharedSubnets(vms, 50);
    console.info(
      `duplicate+shuffle: ${JOBS} jobs, ${c.world.stats().webhooksSent} deliveries POSTed; ${vms.length} VMs = ${launched} first launches + ${relaunches} relaunches after steals; ${vms.filter(takenElsewhere).length} runners took another job than their own; ${served.length} VMs ran a job (1 per job), ${vms.length - served.length} ran none`,
    );
  }, 90_000);

  it("launches every job on the second instance type when EC2 throttles 30% of RunInstances calls and the first type has no capacity", async () => {
    const JOBS = 30;
    const random = seeded(2);
    c = await controllerInWorld({
      reconcileSchedule: "*/2 * * * * *",
      fleetYaml: fleetYaml({ instanceTypes: "[c7i.large, c6i.large]" }),
      // RunInstances only: throttling 30% of every action (DescribeInstances, the subnet
      // keeper's calls) pins the SDK's adaptive rate limiter, which all actions share, near its
      // floor, and launches crawl (2 RunInstances in 150 s when tried).
      ec2: { throttleWhen: (action) => action === "RunInstances" && random() < 0.3 },
    });
    c.world.ec2.setFault({ code: "InsufficientInstanceCapacity", instanceType: "c7i.large" });
    for (let i = 0; i < JOBS; i++) await c.queue(200);
    const started = Date.now();
    await c.allCompleted(100_000);
    const seconds = (Date.now() - started) / 1000;
    expect(c.world.jobs().filter((j) => j.conclusion !== "success")).toEqual([]);

    const vms = ours(c.world);
    expect(vms.filter((vm) => vm.instanceType !== "c6i.large")).toEqual([]);
    const calls = c.world.ec2.calls("RunInstances");
    const { launched, failed } = intents(c.log.lines());
    // Each launch intent calls RunInstances once per instance type it tries (two here), and
    // the SDK sends each call at most maxAttempts = 5 times (1 + 4 retries of a throttle;
    // capacity answers are not retried). A failed intent backs the job off and a new intent
    // follows, so the bound is per intent: calls <= intents x 2 types x 5 attempts.
    expect(calls).toBeLessThanOrEqual((launched + failed) * 2 * 5);
    // Intents: one per job, plus one per failed launch (throttles that outlasted 5 attempts).
    expect(launched).toBe(vms.length);
    expect(vms.length).toBe(JOBS);
    // Each capacity answer moved the lease to another subnet; none went to two live VMs.
    assertNoSharedSubnets(vms, 50);
    console.info(
      `EC2 faults: ${JOBS} jobs, ${vms.length} VMs (all c6i.large), RunInstances calls ${calls} (${(calls / JOBS).toFixed(2)} per job; bound ${(launched + failed) * 10}), intents ${launched + failed} (${failed} failed), ${c.world.ec2.calls()} EC2 calls in all; ${seconds.toFixed(1)} s to serve`,
    );
  }, 120_000);

  /** Jobs served through GitHub answering 10% of JIT registrations 502, under a tight secondary limit. */
  async function throughGitHubFaults(jobs: number, perHour: number, seed: number) {
    const random = seeded(seed);
    let faulted = 0;
    // From before the controller starts.
    const started = Date.now();
    c = await controllerInWorld({
      // Its installation reads are charged to the same budget; every 10 s keeps them a small share.
      reconcileSchedule: "*/10 * * * * *",
      fleetYaml: fleetYaml({ instanceTypes: "[c7i.large]", perHour }),
      github: {
        // 60 points a second: twelve writes (a JIT registration costs 5) per second.
        rateLimits: { primaryLimit: 50_000, secondaryPoints: 60, secondaryWindowMs: 1000 },
        fault: ({ method, path }) => {
          if (method !== "POST" || !path.endsWith("/generate-jitconfig")) return undefined;
          if (random() >= 0.1) return undefined;
          faulted++;
          return 502;
        },
      },
    });
    for (let i = 0; i < jobs; i++) await c.queue(200);
    await c.allCompleted(90_000);
    const seconds = (Date.now() - started) / 1000;
    expect(c.world.jobs().filter((j) => j.conclusion !== "success")).toEqual([]);
    const gh = c.world.github;
    const lines = c.log.lines();
    const figures = {
      seconds,
      faulted,
      secondary: lines.match(/GitHub secondary rate limit reached/g)?.length ?? 0,
      requests: gh.requestCount(),
      appRequests: gh.requestCount(/^\/app(\/|$)/),
      jit: gh.requestCount(/\/generate-jitconfig$/),
      tokens: gh.requestCount(/access_tokens$/),
      listRunners: gh.requestCount(/\/actions\/runners$/),
      deliveries: gh.requestCount(/\/app\/hook\/deliveries/),
      intents: intents(lines),
      // dispatcher.ts: within GitHub's window (an hour, longer than the test), installation
      // requests spend at most githubRequestsPerHour of the limit GitHub reports.
      budget: perHour,
    };
    console.info(`GitHub faults: ${jobs} jobs, ${JSON.stringify(figures)}`);
    return figures;
  }

  it("serves every job within the GitHub budget when GitHub answers 502 and secondary rate limits", async () => {
    // 200 of the installation's 50,000: about 1.5 times what 30 jobs need through the faults.
    const f = await throughGitHubFaults(30, 200, 3);
    expect(f.faulted).toBeGreaterThan(0);
    expect(f.secondary).toBeGreaterThan(0);
    const launches = f.intents.launched + f.intents.failed;
    expect(launches).toBeLessThanOrEqual(f.budget);
    // A secondary limit (403 or 429) is retried by the throttling plugin alone, at most 3
    // times after its retry-after; a 5xx by the retry plugin, at most 3 times. A 429 retried
    // by both cost up to 16 requests (github-app.ts); now registrations need 4 on average at most.
    expect(f.jit).toBeLessThanOrEqual(launches * 4);
    // Every installation request is metered at the wire (retries, the reconciler's reads), so
    // GitHub never sees more than the budget from the installation. The App's own requests
    // (token mints, the delivery log) have a budget of their own.
    expect(f.appRequests).toBeGreaterThan(0);
    expect(f.requests - f.appRequests).toBeLessThanOrEqual(f.budget);
  }, 120_000);

  it("spends the budget GitHub reports, down to what the fleet file keeps back, and waits for the reset", async () => {
    // 60 installation requests per 6 s window; the fleet file may spend 45 of them, so the
    // dispatcher stops launching while 15 remain and goes on after the reset.
    const WINDOW_MS = 6000;
    const JOBS = 70;
    c = await controllerInWorld({
      reconcileSchedule: "*/3 * * * * *",
      fleetYaml: fleetYaml({ instanceTypes: "[c7i.large]", perHour: 45 }),
      github: { rateLimits: { primaryLimit: 60, primaryWindowMs: WINDOW_MS } },
    });
    const started = Date.now();
    for (let i = 0; i < JOBS; i++) await c.queue(100);
    await c.allCompleted(60_000);
    const seconds = (Date.now() - started) / 1000;
    expect(c.world.jobs().filter((j) => j.conclusion !== "success")).toEqual([]);
    // No request was refused for the primary limit, and 70 registrations could not all fit
    // in a first window of 45: the later ones waited for a reset.
    expect(c.log.lines()).not.toMatch(/GitHub rate limit reached/);
    expect(seconds).toBeGreaterThan(WINDOW_MS / 1000);
    console.info(
      `reported budget: ${JOBS} jobs in ${seconds.toFixed(1)} s, ${c.world.github.requestCount()} GitHub requests, windows of ${WINDOW_MS / 1000} s`,
    );
  }, 90_000);

  it("launches again for a job whose VM never boots, and reaps the dead VM", async () => {
    const JOBS = 30;
    let doomedJob = 0;
    let doomed: string | undefined;
    const bootFails = (instanceId: string) => {
      if (doomed === undefined) {
        const vm = world?.ec2.instances().find((i) => i.instanceId === instanceId);
        if (vm?.tags[JOB_TAG] === String(doomedJob)) doomed = instanceId;
      }
      return instanceId === doomed;
    };
    // The reconciler runs when this test ticks it, once every other job is served: on a
    // slow machine a clock-driven pass could judge a VM that is merely late to be dead.
    const reconciler = handSchedule();
    ({ c, world } = await inOwnWorld(
      { bootFails },
      {
        reconcileSchedule: reconciler.schedule,
        reconciler: { launchGraceSeconds: 2 },
        fleetYaml: fleetYaml({ instanceTypes: "[c7i.large]", idleTimeout: "3s" }),
      },
    ));
    for (let i = 0; i < JOBS; i++) {
      const id = await c.queue(200);
      if (i === JOBS - 1) doomedJob = id;
    }
    const served = () => c?.world.jobs().filter((j) => j.status === "completed").length ?? 0;
    await vi.waitFor(() => expect(served()).toBe(JOBS - 1), { timeout: 60_000, interval: 100 });
    expect(doomed).toBeDefined();
    const dead = ours(world).find((vm) => vm.instanceId === doomed) as SimInstance;
    expect(c.world.jobs().find((j) => j.id === doomedJob)?.status).toBe("queued");
    /** Reconcile passes, one after another, until `done` holds. */
    const reconcileUntil = async (done: () => boolean) => {
      const deadline = Date.now() + 60_000;
      while (!done() && Date.now() < deadline) {
        await reconciler.tick();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await reconcileUntil(() => served() === JOBS);
    expect(c.world.jobs().filter((j) => j.conclusion !== "success")).toEqual([]);
    const vms = ours(world);
    expect(world.ec2.statusOf(dead.instanceId)).toBe("terminated");
    // Ended by an API call (not by powering itself off), past idleTimeout + launchGraceSeconds.
    expect(dead.stateReason?.code).toBe("Client.UserInitiatedShutdown");
    const lived = ((dead.terminatedAtMs ?? 0) - dead.launchedAtMs) / 1000;
    expect(lived).toBeGreaterThan(3 + 2);
    expect(c.log.lines()).toMatch(/"loop":"reconciler".*"terminate":[1-9]/);
    // Its registration, offline since it never came online, is deleted once the VM is gone.
    const deadRunner = dead.tags[RUNNER_TAG];
    await reconcileUntil(() => !world?.github.runners().some((r) => r.name === deadRunner));
    expect(world.github.runners().map((r) => r.name)).not.toContain(deadRunner);
    // One VM per job, plus the dead one.
    expect(vms).toHaveLength(JOBS + 1);
    // The dead VM's subnet went to no other VM before it was terminated.
    assertNoSharedSubnets(ours(world), 50);
    const last = c.world
      .jobs()
      .reduce((a, b) => ((a.startedAt?.getTime() ?? 0) > (b.startedAt?.getTime() ?? 0) ? a : b));
    const waited = ((last.startedAt?.getTime() ?? 0) - last.createdAt.getTime()) / 1000;
    console.info(
      `never-booting VM ${dead.instanceId} (launched for job ${doomedJob}) terminated after ${lived.toFixed(1)} s; last job served (${last.id}) started ${waited.toFixed(1)} s after it was queued; ${vms.length} VMs for ${JOBS} jobs`,
    );
  }, 90_000);
});
