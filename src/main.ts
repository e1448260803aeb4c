import type { EC2Client } from "@aws-sdk/client-ec2";
import type { FastifyInstance } from "fastify";
import type { Cloud } from "./cloud/cloud.js";
import { createEc2Client } from "./cloud/ec2/ec2-client.js";
import { Ec2Cloud } from "./cloud/ec2/ec2-cloud.js";
import type { FleetConfig } from "./config/fleet-schema.js";
import type { Config } from "./config/load-config.js";
import type { Settings } from "./config/settings.js";
import { ConfigError } from "./errors.js";
import { startDispatcher } from "./fleet/dispatcher.js";
import type { Loop } from "./fleet/loop.js";
import { pruneDeliveries } from "./fleet/prune-deliveries.js";
import { startReaper } from "./fleet/reaper.js";
import {
  DEFAULT_RECONCILER,
  newReconcilerState,
  type ReconcileReport,
  type ReconcilerOptions,
  reconcileOnce,
  startReconciler,
} from "./fleet/reconciler.js";
import { scheduleTask } from "./fleet/scheduled-task.js";
import { createSubnetKeeper, startSubnetKeeper } from "./fleet/subnet-keeper.js";
import type { GitHub } from "./github/github.js";
import { OctokitGitHub } from "./github/octokit-github.js";
import { buildApp } from "./http/build-app.js";
import type { Ledger } from "./ledger/ledger.js";
import { openLedger } from "./ledger/open-ledger.js";
import { createLogger, type Logger } from "./log/logger.js";

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
  readonly cloud?: Cloud;
  readonly loops?: {
    readonly dispatchMs: number;
    readonly reapMs: number;
    readonly concurrency: number;
  };
  /** The reconciler's cron schedule (node-cron, seconds field allowed) and limits. */
  readonly reconcileSchedule?: string;
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
  const prune = () => pruneDeliveries(ledger, fleet.retention.deliveries, new Date());
  await prune();
  const tasks = [scheduleTask("prune-deliveries", "7 * * * *", prune, log)];

  const github = parts.github ?? githubFrom(settings, log);
  const loops: Loop[] = [];
  if (github === undefined) {
    log.warn("GITHUB_APP_ID is not set: recording webhooks only, launching no runners");
  } else {
    const cloud = parts.cloud ?? cloudFrom(fleet);
    const timing = parts.loops ?? DEFAULT_LOOPS;
    const deps = {
      ledger,
      github,
      cloud,
      fleet,
      logger: log,
      now: () => new Date(),
      random: Math.random,
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
        ...DEFAULT_RECONCILER,
        ...parts.reconciler,
        schedule: parts.reconcileSchedule ?? settings.reconcileSchedule ?? RECONCILE_SCHEDULE,
        onRelaunch: () => loops[0]?.kick(),
      }),
    );
  }
  const [dispatcher, reaper] = loops;

  const app = buildApp({
    ledger,
    logger: log,
    webhookSecrets: settings.webhookSecrets,
    webhookBodyLimitBytes: settings.webhookBodyLimitBytes,
    pools: fleet.pools,
    bindingLabelPrefix: fleet.bindingLabelPrefix,
    now: () => new Date(),
    onJobRecorded: (action) => {
      if (action === "queued") dispatcher?.kick();
      // A job cancelled before it started must not keep its VM: reap at once.
      if (action === "completed") reaper?.kick();
    },
  });
  await app.listen({ host: settings.host, port: settings.port });
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

function githubFrom(settings: Settings, logger: Logger): GitHub | undefined {
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

function cloudFrom(fleet: FleetConfig, client: EC2Client = createEc2Client()): Cloud {
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
      cloud: cloudFrom(config.fleet, ec2),
      fleet: config.fleet,
      logger,
      now: () => new Date(),
      random: Math.random,
    };
    const state = newReconcilerState(deps.now());
    const pass = () => reconcileOnce(deps, DEFAULT_RECONCILER, state, dryRun);
    if (dryRun) return await pass();
    const led = await ledger.asLeader("reconcile", pass);
    return led.leader ? led.result : undefined;
  } finally {
    await ledger.close();
  }
}
