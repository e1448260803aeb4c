import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FLEET_TAG, RUNNER_TAG } from "../../src/cloud/ec2/run-instances-input.js";
import { parseRunnerName } from "../../src/core/runner-name.js";
import { openLedger } from "../../src/ledger/open-ledger.js";
import { type SimWorld, startSimWorld } from "../../src/sim/world/start-sim-world.js";
import { assertNoSharedSubnets } from "../support/assert-no-shared-subnets.js";
import { type ControllerInWorld, controllerInWorld } from "../support/controller-in-world.js";
import { needPostgres } from "../support/need-postgres.js";
import {
  startWebhookSplitter,
  type WebhookSplitter,
  type WebhookTarget,
} from "../support/webhook-splitter.js";

// The promise of the issue: "Two controller replicas on one real PostgreSQL server, same
// burst: no double launch, one reconciler at a time."
const postgres = needPostgres("the two-replica suite (test/fleet/two-replicas.test.ts)");
const postgresUrl = postgres.url;
const JOBS = 150;
const FLEET = "world";
const REPLICAS = ["a", "b"] as const;
// GitHub's limits scaled up tenfold, as in lost-webhooks.test.ts.
const LIMITS = { primaryLimit: 50_000, secondaryPoints: 9000 };
// Both replicas tick together, so every pass is contended for.
const RECONCILE_EVERY_2S = "*/2 * * * * *";
const MIN_TICKS = 6;
const SHUTTING_DOWN_MS = 50;

// Test instrumentation, not product: when a launch intent is written (in the dispatcher's
// transaction, after it took the dispatch lock and chose the job), note how many other live
// runner rows its job has then, when, and which replica (the connection's application_name).
const AUDIT_LAUNCH_INTENTS = `
  create table launch_audit (
    runner_id bigint, job_id bigint, runner_name text, live_siblings int,
    at timestamptz default clock_timestamp(), replica text default current_setting('application_name'));
  create function audit_launch_intent() returns trigger language plpgsql as $$
  begin
    insert into launch_audit (runner_id, job_id, runner_name, live_siblings)
    select new.id, new.job_id, new.runner_name, count(*) from runners r
    where r.job_id = new.job_id and r.id <> new.id and r.state <> 'terminated';
    return new;
  end $$;
  create trigger audit_launch_intent after insert on runners
    for each row execute function audit_launch_intent();`;

interface LogLine {
  readonly time: number;
  readonly msg: string;
  readonly loop?: string;
  readonly leader?: boolean;
}

interface Pass {
  readonly replica: string;
  readonly from: number;
  readonly to: number;
}

/** A new, migrated database on the test server, with launch intents audited. */
async function freshDatabase(serverUrl: string): Promise<string> {
  const name = `mayfly_replicas_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  const ledger = await openLedger({ url });
  await ledger.migrate();
  await ledger.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(AUDIT_LAUNCH_INTENTS);
  await client.end();
  return url;
}

function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", name);
  return u.toString();
}

const logLines = (c: ControllerInWorld): LogLine[] =>
  c.log
    .lines()
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as LogLine);

/**
 * A replica's reconcile passes from its log. A led pass logs "deliveries recovered" (its
 * first step, inside the lock) then "task done" with its counts; a pass that did not get the
 * lock logs only "task done" with `leader: false`. Anything else is returned as `odd`.
 */
function reconcilePasses(replica: string, lines: readonly LogLine[]) {
  const led: Pass[] = [];
  const odd: LogLine[] = [];
  let followed = 0;
  let started: number | undefined;
  for (const line of lines) {
    if (line.loop === "recover-deliveries" && line.msg === "deliveries recovered") {
      if (started !== undefined) odd.push(line);
      started = line.time;
    } else if (line.loop === "reconciler") {
      if (line.msg === "task done" && line.leader === false && started === undefined) followed++;
      else if (line.msg === "task done" && line.leader === undefined && started !== undefined)
        led.push({ replica, from: started, to: line.time });
      else odd.push(line);
      started = undefined;
    }
  }
  return { led, followed, odd };
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not settled after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(!postgresUrl)(postgres.title("two replicas on one PostgreSQL server"), () => {
  let world: SimWorld;
  let splitter: WebhookSplitter | undefined;
  let db: pg.Pool;
  const replicas: ControllerInWorld[] = [];
  const lines = new Map<string, LogLine[]>();
  let burstMs = 0;

  beforeAll(async () => {
    const url = await freshDatabase(postgresUrl);
    db = new pg.Pool({ connectionString: url, max: 2 });
    world = await startSimWorld({
      github: { rateLimits: LIMITS },
      bootMs: 100,
      idleTimeoutMs: 5000,
      ec2: { vpcId: "vpc-0511", pendingMs: 50, shuttingDownMs: SHUTTING_DOWN_MS },
    });
    // Each replica joins the test's world and tells it where its webhooks go; the test keeps
    // those targets and puts a splitter in front of them, as a load balancer would be.
    const targets: WebhookTarget[] = [];
    const joined: SimWorld = { ...world, connect: (t) => void targets.push(t) };
    for (const name of REPLICAS) {
      replicas.push(
        await controllerInWorld({
          world: joined,
          databaseUrl: withApplicationName(url, `replica-${name}`),
          reconcileSchedule: RECONCILE_EVERY_2S,
        }),
      );
    }
    splitter = await startWebhookSplitter(targets);
    world.connect(splitter);

    const started = Date.now();
    for (let i = 0; i < JOBS; i++) await (replicas[0] as ControllerInWorld).queue(50);
    await (replicas[0] as ControllerInWorld).allCompleted(120_000);
    burstMs = Date.now() - started;
    // Every job completed and every VM ended in the ledger, and enough reconcile ticks seen
    // (each replica logs one line a tick), before the logs are read.
    const ticks = () => replicas.flatMap(logLines).filter((l) => l.loop === "reconciler").length;
    await until(async () => {
      if (ticks() < 2 * MIN_TICKS) return false;
      const [left] = (
        await db.query(`select
          (select count(*) from jobs where state <> 'completed')
          + (select count(*) from runners where state <> 'terminated') as n`)
      ).rows;
      return Number(left.n) === 0;
    }, 60_000);
    await Promise.all(replicas.map((r) => r.stop()));
    REPLICAS.forEach((name, i) => void lines.set(name, logLines(replicas[i] as ControllerInWorld)));
    replicas.length = 0;
  }, 240_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await world?.stop();
    await splitter?.stop();
    await db?.end();
  });

  it("serves every job of the burst, with deliveries spread over both replicas", () => {
    const jobs = world.jobs();
    expect(jobs).toHaveLength(JOBS);
    expect(jobs.filter((j) => j.conclusion !== "success")).toEqual([]);
    expect(world.stats().webhooksFailed).toBe(0);
    const [toA, toB] = splitter?.counts() ?? [];
    expect(Math.abs((toA ?? 0) - (toB ?? 0))).toBeLessThanOrEqual(1);
  });

  it("never writes a launch intent for a job that still has a live runner", async () => {
    const audited = (
      await db.query(`select runner_id::int as "runnerId", job_id::int as "jobId",
        runner_name as "runnerName", live_siblings as "liveSiblings", replica from launch_audit`)
    ).rows;
    const [rows] = (await db.query("select count(*)::int as n from runners")).rows;
    expect(audited).toHaveLength(rows.n);
    expect(audited.filter((a) => a.liveSiblings !== 0)).toEqual([]);
    // Both replicas' dispatchers took part in the race for the same jobs.
    for (const name of REPLICAS)
      expect(audited.filter((a) => a.replica === `replica-${name}`).length).toBeGreaterThan(0);
  });

  it("never has two runners of a job alive at once, steals aside", async () => {
    // Only rows still bound to the job named in their runner name: a row rebound by a steal
    // (rebind-runner.ts) lived part of its life for another job. Its birth is the audited
    // insert time, after the dispatch lock; created_at is the transaction's start, before it.
    const runners = (
      await db.query(`select r.job_id::int as "jobId", r.runner_name as "runnerName",
        a.at as "claimedAt", r.terminated_at as "terminatedAt"
        from runners r join launch_audit a on a.runner_id = r.id order by a.at`)
    ).rows as { jobId: number; runnerName: string; claimedAt: Date; terminatedAt: Date }[];
    const own = runners.filter((r) => parseRunnerName(FLEET, r.runnerName)?.jobId === r.jobId);
    const overlaps = own.flatMap((r, i) =>
      own
        .slice(0, i)
        .filter((earlier) => earlier.jobId === r.jobId && earlier.terminatedAt > r.claimedAt)
        .map((earlier) => `${earlier.runnerName} still alive when ${r.runnerName} was claimed`),
    );
    expect(overlaps).toEqual([]);
    expect(own.length).toBeGreaterThan(0);
  });

  it("starts exactly one VM per launch intent, and both replicas launch", async () => {
    const withVm = (
      await db.query(`select runner_name as "runnerName", instance_id as "instanceId"
        from runners where instance_id is not null`)
    ).rows as { runnerName: string; instanceId: string }[];
    const instances = world.ec2.instances();
    expect(new Set(instances.map((i) => i.clientToken)).size).toBe(instances.length);
    expect(new Set(instances.map((i) => i.tags[RUNNER_TAG])).size).toBe(instances.length);
    expect(new Map(instances.map((i) => [i.instanceId, i.tags[RUNNER_TAG]]))).toEqual(
      new Map(withVm.map((r) => [r.instanceId, r.runnerName])),
    );
    const launched = REPLICAS.map(
      (name) => lines.get(name)?.filter((l) => l.msg === "runner launched").length ?? 0,
    );
    expect(launched.every((n) => n > 0)).toBe(true);
    expect(launched.reduce((a, b) => a + b)).toBe(instances.length);
    console.info(
      `${JOBS} jobs in ${burstMs} ms; VMs ${instances.length}; launched by a/b: ${launched.join("/")}`,
    );
  });

  it("never starts a VM in a subnet another live VM holds, with both replicas leasing", () => {
    // The subnet lease (subnet-ledger.ts) is taken in each replica's dispatcher: EC2's record
    // of every VM, with its subnet and life, shows whether two ever shared one.
    const vms = world.ec2.instances().filter((i) => i.tags[FLEET_TAG] === FLEET);
    assertNoSharedSubnets(vms, SHUTTING_DOWN_MS);
    // Subnets were reused across the burst, so a lease given twice had the chance to show.
    expect(new Set(vms.map((i) => i.subnetId)).size).toBeLessThan(vms.length);
  });

  it("reconciles on one replica at a time", () => {
    const passes = REPLICAS.map((name) => reconcilePasses(name, lines.get(name) ?? []));
    expect(passes.flatMap((p) => p.odd)).toEqual([]);
    // The passes' ticks coincide, so a replica that found the lock taken proves contention.
    expect(passes.reduce((n, p) => n + p.followed, 0)).toBeGreaterThan(0);
    const led = passes.flatMap((p) => p.led).sort((x, y) => x.from - y.from);
    const overlapping = led.filter((p, i) => i > 0 && (led[i - 1] as Pass).to > p.from);
    expect(overlapping).toEqual([]);
    console.info(
      `reconcile passes led/followed by a: ${passes[0]?.led.length}/${passes[0]?.followed}, b: ${passes[1]?.led.length}/${passes[1]?.followed}`,
    );
  });
});
