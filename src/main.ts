import type { EC2Client } from "@aws-sdk/client-ec2";
import type { FastifyInstance } from "fastify";
import { createIdentityVerifier } from "./assignment/create-identity-verifier.js";
import { LedgerAssignments } from "./assignment/ledger-assignments.js";
import { trustedIdentityCertificates } from "./assignment/trusted-identity-certificates.js";
import type { Cloud } from "./cloud/cloud.js";
import { createEc2Client, observeEc2Calls } from "./cloud/ec2/ec2-client.js";
import { Ec2Cloud } from "./cloud/ec2/ec2-cloud.js";
import { type FleetConfig, repositoryLimitsOf } from "./config/fleet-schema.js";
import type { Config } from "./config/load-config.js";
import type { Settings } from "./config/settings.js";
import type { JobEvent } from "./core/job.js";
import { ConfigError } from "./errors.js";
import { startDispatcher } from "./fleet/dispatcher.js";
import { kickSoon, type Loop } from "./fleet/loop.js";
import { pruneRetained } from "./fleet/prune-retained.js";
import { startReaper } from "./fleet/reaper.js";
import {
  newReconcilerState,
  type ReconcileReport,
  type ReconcilerOptions,
  reconcileOnce,
  reconcilerOptionsOf,
  startReconciler,
} from "./fleet/reconciler.js";
import { type Schedule, scheduleTask } from "./fleet/scheduled-task.js";
import { createSubnetKeeper, startSubnetKeeper } from "./fleet/subnet-keeper.js";
import type { GitHub } from "./github/github.js";
import { OctokitGitHub } from "./github/octokit-github.js";
import { PoolRunnerGroups } from "./github/pool-runner-groups.js";
import { buildApp } from "./http/build-app.js";
import { selfSignedCertificate, type TlsIdentity } from "./http/self-signed-certificate.js";
import type { Ledger } from "./ledger/ledger.js";
import { openLedger } from "./ledger/open-ledger.js";
import { createLogger, type Logger } from "./log/logger.js";
import { prometheusMetrics } from "./metrics/prometheus-metrics.js";

/** Opens the ledger the settings point at: DATABASE_URL, else PGlite in MAYFLY_DATA_DIR. */
export function openConfiguredLedger(
  settings: Pick<Settings, "databaseUrl" | "dataDir">,
): Promise<Ledger> {
  return openLedger(
    settings.databaseUrl ? { url: settings.databaseUrl.reveal() } : { dataDir: settings.dataDir },
  );
}

/** Parts a caller may hand in instead of those built from the settings (the demo's simulators). */
export interface Parts {
  readonly logger?: Logger;
  readonly github?: GitHub;
  /** The EC2 client the fleet's cloud is built on. */
  readonly ec2?: EC2Client;
  readonly loops?: {
    readonly dispatchMs: number;
    readonly reapMs: number;
    readonly concurrency: number;
  };
  /** The reconciler's cron schedule (node-cron, seconds field allowed) and limits. */
  readonly reconcileSchedule?: string | Schedule;
  readonly reconciler?: Partial<ReconcilerOptions>;
}

export interface Running {
  readonly app: FastifyInstance;
  readonly ledger: Ledger;
  readonly logger: Logger;
  /** Stops taking work, lets launches in flight finish, then closes the server and the ledger. */
  stop(): Promise<void>;
}

const DEFAULT_LOOPS = { dispatchMs: 1000, reapMs: 5000, concurrency: 8 };
// The keeper's own rounds only top up idle subnets and trim surplus; launches ask it directly.
const SUBNET_KEEPER_MS = 60_000;
// Well within a minute of billing, and long enough to gather a burst's terminations.
const REAP_GATHER_MS = 500;
// Every minute: a lost webhook or a dead VM waits at most this long to be noticed.
const RECONCILE_SCHEDULE = "* * * * *";

/** The composition root: builds every part from the configuration and starts serving. */
export async function serve(config: Config, parts: Parts = {}): Promise<Running> {
  const { settings, fleet } = config;
  const log = parts.logger ?? createLogger({ level: settings.logLevel });
  const ledger = await openConfiguredLedger(settings);
  try {
    await ledger.migrate();
  } catch (error) {
    await ledger.close();
    throw error;
  }
  const { metrics, registry, watchGitHub } = prometheusMetrics(ledger, repositoryLimitsOf(fleet));
  const prune = () => pruneRetained(ledger, fleet.retention, new Date());
  await prune();
  const tasks = [scheduleTask("prune", "7 * * * *", prune, log)];

  const github = parts.github ?? githubFrom(settings, log);
  if (github !== undefined) watchGitHub(github);
  const now = () => new Date();
  const ec2 = github === undefined ? undefined : (parts.ec2 ?? createEc2Client());
  if (github === undefined)
    log.warn("GITHUB_APP_ID is not set: recording webhooks only, launching no runners");
  else if (settings.awsAccountId === undefined)
    log.warn(
      "MAYFLY_AWS_ACCOUNT_ID is not set: assignment requests are matched to this fleet's VMs without checking their account",
    );
  for (const pool of fleet.pools.filter((p) => p.publicRepositories === "allow"))
    log.warn(
      { pool: pool.name },
      "pool serves public repositories: a fork's pull request can run its code on these runners",
    );
  const loops: Loop[] = [];
  const [dispatcher, reaper] = [() => loops[0], () => loops[1]];
  // Jobs end in bursts: gathering their terminations costs one TerminateInstances call.
  const reapSoon = kickSoon({ kick: () => reaper()?.kick() }, REAP_GATHER_MS);

  const assignments =
    github === undefined || ec2 === undefined
      ? undefined
      : new LedgerAssignments({
          ledger,
          github,
          pools: fleet.pools,
          runnerGroups: new PoolRunnerGroups({
            github,
            fleet: fleet.fleet,
            pools: fleet.pools,
            logger: log,
          }),
          fleet: { accountId: settings.awsAccountId, region: await ec2.config.region() },
          now,
          logger: log,
        });
  const tls = await tlsIdentityOf(settings);
  const app = buildApp({
    ...(tls === undefined ? {} : { tls }),
    ledger,
    logger: log,
    webhookSecrets: settings.webhookSecrets,
    webhookBodyLimitBytes: settings.webhookBodyLimitBytes,
    pools: fleet.pools,
    bindingLabelPrefix: fleet.bindingLabelPrefix,
    installations: fleet.installations,
    now,
    onJobRecorded: (event, pool) => {
      if (event.action === "queued") dispatcher()?.kick();
      // A job cancelled before it started must not keep its VM: reap within half a second.
      if (event.action === "completed") reapSoon();
      const waited = queueSeconds(event);
      if (pool !== null && event.action === "in_progress" && waited !== null)
        metrics.jobStarted(waited);
    },
    admin: {
      token: settings.adminToken,
      fleet,
      registry,
      repositoryLimits: repositoryLimitsOf(fleet),
    },
    ...(assignments === undefined
      ? {}
      : {
          assignment: {
            verifier: createIdentityVerifier(trustedIdentityCertificates(settings)),
            assignments,
            now,
            onRefusal: (reason) => metrics.assignmentRefused(reason),
          },
        }),
  });
  if (settings.adminToken === undefined)
    log.warn("MAYFLY_ADMIN_TOKEN is not set: /api, /metrics and the status page answer 401");
  await app.listen({ host: settings.host, port: settings.port });

  if (github !== undefined && ec2 !== undefined) {
    observeEc2Calls(ec2, {
      call: () => metrics.apiCall("ec2"),
      throttled: () => metrics.throttled("ec2"),
    });
    const timing = parts.loops ?? DEFAULT_LOOPS;
    const deps = {
      ledger,
      github,
      cloud: cloudFrom(fleet, ec2),
      fleet,
      logger: log,
      now,
      random: Math.random,
      metrics,
      runnerEndpoint: settings.runnerEndpoint ?? listeningAt(app, tls !== undefined),
      onLaunchRecorded: (instanceId: string) => assignments?.launchRecorded(instanceId),
    };
    const subnets = createSubnetKeeper(deps);
    loops.push(
      startDispatcher(deps, {
        intervalMs: timing.dispatchMs,
        concurrency: timing.concurrency,
        subnets,
      }),
    );
    loops.push(startReaper(deps, { intervalMs: timing.reapMs }));
    loops.push(startSubnetKeeper(subnets, deps, { intervalMs: SUBNET_KEEPER_MS }));
    tasks.push(
      startReconciler(deps, {
        ...reconcilerOptionsOf(fleet),
        ...parts.reconciler,
        schedule: parts.reconcileSchedule ?? settings.reconcileSchedule ?? RECONCILE_SCHEDULE,
        onRelaunch: () => dispatcher()?.kick(),
      }),
    );
  }
  log.info(
    {
      address: app.server.address(),
      fleet: fleet.fleet,
      pools: fleet.pools.length,
      database: settings.databaseUrl ? "postgresql" : "embedded",
      launching: github !== undefined,
    },
    "mayfly serving",
  );
  return {
    app,
    ledger,
    logger: log,
    async stop() {
      await Promise.all([...loops, ...tasks].map((l) => l.stop()));
      await app.close();
      await ledger.close();
    },
  };
}

/**
 * Where the server listens, as a URL: the runner endpoint of a controller served on this
 * machine only (settings.ts requires MAYFLY_RUNNER_ENDPOINT otherwise).
 */
function listeningAt(app: FastifyInstance, https: boolean): string {
  const address = app.server.address();
  if (address === null || typeof address === "string")
    throw new Error("the server is not listening on a TCP port");
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${https ? "https" : "http"}://${host}:${address.port}`;
}

/** The key and certificate `serve` answers HTTPS with, when the settings ask for it. */
async function tlsIdentityOf(settings: Settings): Promise<TlsIdentity | undefined> {
  if (settings.tls === undefined) return undefined;
  if (settings.tls.kind === "files")
    return { key: settings.tls.key.reveal(), cert: settings.tls.cert };
  return selfSignedCertificate();
}

/** GitHub's own queued-to-started time of a job, from its webhook. */
function queueSeconds(event: JobEvent): number | null {
  if (event.createdAt === null || event.startedAt === null) return null;
  return Math.max(0, (event.startedAt.getTime() - event.createdAt.getTime()) / 1000);
}

/** The production GitHub adapter the settings describe, or undefined without App credentials. */
export function githubFrom(settings: Settings, logger: Logger): GitHub | undefined {
  if (settings.githubApp === undefined) return undefined;
  return new OctokitGitHub({
    appId: settings.githubApp.appId,
    privateKey: settings.githubApp.privateKey,
    baseUrl: settings.githubApiUrl,
    logger,
    ...(settings.githubWriteSpacingMs === undefined
      ? {}
      : { tuning: { writeSpacingMs: settings.githubWriteSpacingMs } }),
  });
}

function cloudFrom(fleet: FleetConfig, client: EC2Client): Cloud {
  return new Ec2Cloud({
    client,
    fleet: fleet.fleet,
    network: fleet.network,
    launchTemplate: fleet.launchTemplate,
  });
}

/**
 * One reconcile pass outside `serve` (`mayfly reconcile`): as leader, like the scheduled
 * pass; a dry run reads the ledger, EC2 and GitHub and changes nothing.
 */
export async function reconcileFromCli(
  config: Config,
  dryRun: boolean,
  logger: Logger,
  ec2?: EC2Client,
): Promise<ReconcileReport | undefined> {
  const github = githubFrom(config.settings, logger);
  if (github === undefined)
    throw new ConfigError(["GITHUB_APP_ID: required to compare the ledger with GitHub"]);
  const ledger = await openConfiguredLedger(config.settings);
  try {
    const deps = {
      ledger,
      github,
      cloud: cloudFrom(config.fleet, ec2 ?? createEc2Client()),
      fleet: config.fleet,
      logger,
      now: () => new Date(),
      random: Math.random,
    };
    const state = newReconcilerState(deps.now());
    const pass = () => reconcileOnce(deps, reconcilerOptionsOf(config.fleet), state, dryRun);
    if (dryRun) return await pass();
    const led = await ledger.asLeader("reconcile", pass);
    return led.leader ? led.result : undefined;
  } finally {
    await ledger.close();
  }
}
