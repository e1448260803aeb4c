import { JOB_TAG, RUNNER_TAG } from "../../cloud/ec2/run-instances-input.js";
import { parseRunnerName } from "../../core/runner-name.js";
import { BENCH_FLEET, type BenchWorld, startBenchWorld } from "../bench-world.js";
import { isMutating } from "../classify.js";
import { allDone, queueJobs } from "../job-load.js";
import type { ProxyRecord } from "../recording-proxy.js";
import { percentile, round } from "../stats.js";

export interface SteadyParams {
  readonly jobs: number;
  readonly perSecond: number;
  readonly bootMs: number;
  readonly jobMs: number;
  /** Every Nth job is cancelled 100 ms after its RunInstances reaches EC2, before boot. */
  readonly cancelEvery: number;
  readonly githubLatencyMs: number;
  readonly ec2LatencyMs: number;
  readonly databaseUrl?: string;
}

/** What a steady run measured; times in milliseconds. */
export interface SteadyFigures {
  readonly jobs: number;
  readonly overheadP50: number | null;
  readonly overheadP99: number | null;
  /** A job's `queued` delivery to its first RunInstances. */
  readonly queuedToLaunchP50: number | null;
  readonly queuedToLaunchP99: number | null;
  /** One assignment request as the VM saw it (held, registered and answered). */
  readonly assignP50: number | null;
  readonly assignP99: number | null;
  readonly githubCallsPerJob: number;
  readonly ec2MutatingPerLaunch: number;
  readonly terminateCallsPerJob: number;
  readonly startOverBootP50: number | null;
  readonly reapP99: number | null;
  readonly cancelReapP99: number | null;
  readonly selfEnded: number;
  readonly jobsLost: number;
  readonly peakRssMb: number;
  readonly cpuSecondsPer1000Jobs: number;
  readonly launches: number;
  /** Requests by GitHub route (IDs folded) and by EC2 action, e.g. "POST .../generate-jitconfig: 260". */
  readonly githubByRoute: string;
  readonly ec2ByAction: string;
}

/**
 * Jobs arriving at a steady rate, limits out of the way: the controller's own overhead, API
 * calls per job, start latency and reaping, and its footprint.
 */
export async function runSteady(p: SteadyParams): Promise<SteadyFigures> {
  const bench = await startBenchWorld({
    ...(p.databaseUrl ? { databaseUrl: p.databaseUrl } : {}),
    bootMs: p.bootMs,
    githubLatencyMs: p.githubLatencyMs,
    ec2LatencyMs: p.ec2LatencyMs,
    githubLimits: { primaryLimit: 1e9, secondaryPoints: 1e9 },
    writeSpacingMs: 0,
    limits: {
      githubRequestsPerHour: 10_000_000,
      ec2LaunchesPerSecond: 1000,
      ec2LaunchBurst: 5000,
      maxRunners: 2000,
    },
    idleSubnets: Math.min(2000, Math.ceil((p.perSecond * (p.bootMs + p.jobMs + 8000)) / 1000) + 20),
  });
  try {
    const toCancel = new Set<number>();
    const cancelled = new Set<number>();
    bench.onEc2 = (r) => {
      const jobId = Number(r.info.jobId);
      if (r.info.action !== "RunInstances" || !toCancel.has(jobId) || cancelled.has(jobId)) return;
      cancelled.add(jobId);
      setTimeout(() => void bench.world.cancelJob(jobId).catch(() => {}), 100);
    };
    const cpuBefore = bench.controller.usage().cpuSeconds;
    const firstId = 1001;
    for (let i = 0; i < p.jobs; i++)
      if (i % p.cancelEvery === p.cancelEvery - 1) toCancel.add(firstId + i);
    await queueJobs(bench.world, p.jobs, p.perSecond, p.jobMs);
    await allDone(bench.world, p.bootMs + p.jobMs + 120_000);
    // The reaper's last round and the last TerminateInstances.
    await new Promise((r) => setTimeout(r, 3000));
    const usage = bench.controller.usage();
    return figuresOf(bench, p, cancelled, usage.peakRssMb, usage.cpuSeconds - cpuBefore);
  } finally {
    await bench.stop();
  }
}

function figuresOf(
  bench: BenchWorld,
  p: SteadyParams,
  cancelled: ReadonlySet<number>,
  peakRssMb: number,
  cpuSeconds: number,
): SteadyFigures {
  const gh = bench.github.records.slice(bench.mark.github);
  const ec2 = bench.ec2.records.slice(bench.mark.ec2);
  const hooks = bench.webhooks.records.slice(bench.mark.webhooks);
  const jobs = bench.world.jobs();
  const queuedAt = firstBy(
    hooks.filter((r) => r.info.action === "queued"),
    (r) => r.info.jobId,
  );
  const completedAt = firstBy(
    hooks.filter((r) => r.info.action === "completed"),
    (r) => r.info.jobId,
  );
  const runAt = firstBy(
    ec2.filter((r) => r.info.action === "RunInstances"),
    (r) => r.info.jobId,
  );
  // GitHub's time before a job's RunInstances is not the controller's own: a relaunch asks
  // GitHub for the job first. (The JIT registration comes after, when the VM asks.)
  const githubBefore = new Map<string, number>();
  for (const r of gh) {
    const jobId = r.info.runnerName && parseRunnerName(BENCH_FLEET, r.info.runnerName)?.jobId;
    const run = jobId ? runAt.get(String(jobId)) : undefined;
    if (jobId && run !== undefined && r.doneMs <= run.atMs)
      githubBefore.set(String(jobId), (githubBefore.get(String(jobId)) ?? 0) + (r.doneMs - r.atMs));
  }
  const overheads: number[] = [];
  const toLaunch: number[] = [];
  for (const [jobId, run] of runAt) {
    const q = queuedAt.get(jobId);
    if (q === undefined) continue;
    toLaunch.push(run.atMs - q.atMs);
    overheads.push(run.atMs - q.atMs - (githubBefore.get(jobId) ?? 0));
  }
  const assignMs = bench.world.stats().assignMs;
  const terminates = ec2.filter((r) => r.info.action === "TerminateInstances");
  const terminatedAt = new Map<string, number>();
  for (const t of terminates)
    for (const id of (t.info.instanceIds ?? "").split(","))
      if (!terminatedAt.has(id)) terminatedAt.set(id, t.atMs);
  const vms = bench.world.ec2.instances();
  const reap: number[] = [];
  const cancelReap: number[] = [];
  let selfEnded = 0;
  for (const job of jobs) {
    const done = completedAt.get(String(job.id))?.atMs;
    if (done === undefined) continue;
    const ids = cancelled.has(job.id)
      ? vms.filter((v) => v.tags[JOB_TAG] === String(job.id)).map((v) => v.instanceId)
      : vms
          .filter((v) => job.runnerName !== null && v.tags[RUNNER_TAG] === job.runnerName)
          .map((v) => v.instanceId);
    for (const id of ids) {
      const at = terminatedAt.get(id);
      if (at === undefined) selfEnded++;
      else (cancelled.has(job.id) ? cancelReap : reap).push(Math.max(0, at - done));
    }
  }
  const served = jobs.filter((j) => j.conclusion === "success" && j.startedAt !== null);
  const starts = served.map((j) => (j.startedAt as Date).getTime() - j.createdAt.getTime());
  const p50Start = percentile(starts, 0.5);
  return {
    jobs: jobs.length,
    overheadP50: round(percentile(overheads, 0.5)),
    overheadP99: round(percentile(overheads, 0.99)),
    queuedToLaunchP50: round(percentile(toLaunch, 0.5)),
    queuedToLaunchP99: round(percentile(toLaunch, 0.99)),
    assignP50: round(percentile(assignMs, 0.5)),
    assignP99: round(percentile(assignMs, 0.99)),
    githubCallsPerJob: round(gh.length / Math.max(1, jobs.length), 3) as number,
    ec2MutatingPerLaunch: round(
      ec2.filter((r) => isMutating(r.info.action ?? "")).length / Math.max(1, vms.length),
      3,
    ) as number,
    terminateCallsPerJob: round(terminates.length / Math.max(1, jobs.length), 3) as number,
    startOverBootP50: p50Start === null ? null : round(p50Start - p.bootMs),
    reapP99: round(percentile(reap, 0.99)),
    cancelReapP99: round(percentile(cancelReap, 0.99)),
    selfEnded,
    jobsLost: jobs.filter((j) => j.status !== "completed").length,
    peakRssMb: round(peakRssMb, 1) as number,
    cpuSecondsPer1000Jobs: round((cpuSeconds / Math.max(1, jobs.length)) * 1000, 2) as number,
    launches: vms.length,
    githubByRoute: countBy(gh, (r) => (r.info.route ?? "").replace(/\/\d+/g, "/N")),
    ec2ByAction: countBy(ec2, (r) => r.info.action ?? ""),
  };
}

function firstBy(records: readonly ProxyRecord[], key: (r: ProxyRecord) => string | undefined) {
  const out = new Map<string, ProxyRecord>();
  for (const r of records) {
    const k = key(r);
    if (k !== undefined && k !== "" && !out.has(k)) out.set(k, r);
  }
  return out;
}

function countBy(records: readonly ProxyRecord[], key: (r: ProxyRecord) => string): string {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}: ${n}`).join(", ");
}
