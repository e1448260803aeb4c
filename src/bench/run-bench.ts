import { benchParams } from "./bench-params.js";
import { type BenchFigures, benchJson, benchTable, missedCounts } from "./bench-report.js";
import { postgresBinDir, startPostgres } from "./postgres-server.js";
import { type BurstFigures, runBurst } from "./scenarios/burst.js";
import { describePagesPer1000 } from "./scenarios/describe-pages.js";
import { type IntakeFigures, runIntake } from "./scenarios/intake.js";
import { runSteady, type SteadyFigures } from "./scenarios/steady.js";

export interface BenchIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * `mayfly bench [--quick] [--json]`: the controller (`mayfly serve` in a child process)
 * against the simulated GitHub and EC2, through its HTTP intake and real clients. Progress
 * goes to `err`; the table, or with `json` one JSON object, to `out`. Resolves 0 once it
 * ran: missed targets are reported, not failures; with `check`, a count that misses its target
 * (requests, VMs or jobs per job, lost jobs, throttle answers) resolves 1, timings never do.
 */
export async function runBench(
  options: { quick: boolean; json: boolean; check?: boolean },
  io: BenchIo,
): Promise<number> {
  const p = benchParams(options.quick);
  const notes: string[] = [];
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    io.err(`bench: ${name} ...`);
    const result = await work();
    io.err(
      `bench: ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s: ${JSON.stringify(result)}`,
    );
    return result;
  };
  const bin = postgresBinDir();
  const pg = bin === undefined ? undefined : await startPostgres(bin);
  if (pg === undefined)
    notes.push("PostgreSQL figures null: no server binaries in /usr/lib/postgresql/*/bin");
  try {
    const describe = await step("describe pages", () => describePagesPer1000(p.describeVms));
    const steadyLite = await step("steady (PGlite)", () => runSteady(p.steady));
    let steadyPg: SteadyFigures | undefined;
    if (pg)
      steadyPg = await step("steady (PostgreSQL)", async () =>
        runSteady({ ...p.steady, databaseUrl: await pg.freshDatabase() }),
      );
    const burst: BurstFigures = await step(`burst (${pg ? "PostgreSQL" : "PGlite"})`, async () =>
      runBurst({ ...p.burst, ...(pg ? { databaseUrl: await pg.freshDatabase() } : {}) }),
    );
    const intakeLite: IntakeFigures = await step("intake (PGlite)", () => runIntake(p.intake));
    let intakePg: IntakeFigures | undefined;
    if (pg) {
      intakePg = await step("intake (PostgreSQL)", async () =>
        runIntake({ ...p.intake, databaseUrl: await pg.freshDatabase() }),
      );
    }
    const main = steadyPg ?? steadyLite;
    const figures: BenchFigures = {
      overhead_p99_ms: main.overheadP99,
      github_calls_per_job: main.githubCallsPerJob,
      ec2_mutating_calls_per_launch: main.ec2MutatingPerLaunch,
      terminate_calls_per_job: burst.terminateCallsPerJob,
      describe_pages_per_1000_vms: describe,
      limit_utilisation: burst.utilisation,
      throttle_errors: burst.githubThrottled + burst.ec2Throttled,
      jobs_lost: steadyLite.jobsLost + (steadyPg?.jobsLost ?? 0) + burst.jobsLost,
      start_over_boot_p50_ms: main.startOverBootP50,
      reap_p99_ms: main.reapP99,
      cancel_reap_p99_ms: main.cancelReapP99,
      rss_mb_postgres: steadyPg?.peakRssMb ?? null,
      rss_mb_pglite: steadyLite.peakRssMb,
      intake_per_s_pglite: intakeLite.perSecond,
      intake_per_s_postgres: intakePg?.perSecond ?? null,
      vms_per_job: Math.max(vmsPerJob(steadyLite), steadyPg ? vmsPerJob(steadyPg) : 0),
      assign_p99_ms: main.assignP99,
      queued_to_launch_p99_ms: main.queuedToLaunchP99,
    };
    notes.push(...detailNotes(options.quick, p, steadyLite, steadyPg, burst));
    io.out(options.json ? benchJson(figures) : benchTable(figures, notes));
    if (!options.check) return 0;
    const missed = missedCounts(figures);
    for (const m of missed) io.err(`bench: count missed its target: ${m}`);
    return missed.length === 0 ? 0 : 1;
  } finally {
    pg?.stop();
  }
}

/** VMs started per job in a steady run: 1 when no job needed a second VM. */
function vmsPerJob(f: SteadyFigures): number {
  return Math.round((f.launches / Math.max(1, f.jobs)) * 1000) / 1000;
}

function detailNotes(
  quick: boolean,
  p: ReturnType<typeof benchParams>,
  lite: SteadyFigures,
  pg: SteadyFigures | undefined,
  burst: BurstFigures,
): string[] {
  const steady = (name: string, f: SteadyFigures) =>
    `steady ${name}: ${f.jobs} jobs at ${p.steady.perSecond}/s, ${f.launches} launches; overhead p50 ${f.overheadP50} ms p99 ${f.overheadP99} ms; ` +
    `queued to RunInstances p50 ${f.queuedToLaunchP50} ms p99 ${f.queuedToLaunchP99} ms; assignment p50 ${f.assignP50} ms p99 ${f.assignP99} ms; ` +
    `GitHub ${f.githubCallsPerJob}/job, EC2 mutating ${f.ec2MutatingPerLaunch}/launch, TerminateInstances ${f.terminateCallsPerJob}/job; ` +
    `start-boot p50 ${f.startOverBootP50} ms; reap p99 ${f.reapP99} ms, cancelled p99 ${f.cancelReapP99} ms (${f.selfEnded} VMs ended before any TerminateInstances); ` +
    `peak RSS ${f.peakRssMb} MB, CPU ${f.cpuSecondsPer1000Jobs} s per 1000 jobs; lost ${f.jobsLost}; ` +
    `GitHub requests: ${f.githubByRoute}; EC2 requests: ${f.ec2ByAction}`;
  return [
    `mode: ${quick ? "quick" : "full"}; boot ${p.steady.bootMs / 1000} s in the steady runs`,
    steady("PGlite", lite),
    ...(pg ? [steady("PostgreSQL", pg)] : []),
    `burst: ${burst.jobs} jobs, clock x${p.burst.timeScale}; ${burst.launchesPerSecond} launches/s of ${burst.limitMaxPerSecond} the limits allow; ` +
      `GitHub rate-limit answers ${burst.githubThrottled}, EC2 RequestLimitExceeded ${burst.ec2Throttled}; ` +
      `TerminateInstances ${burst.terminateCallsPerJob}/job; write spacing ${burst.writeSpacingMs} ms; lost ${burst.jobsLost}`,
  ];
}
