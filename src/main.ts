import type { FastifyInstance } from "fastify";
import type { Config } from "./config/load-config.js";
import type { Settings } from "./config/settings.js";
import { pruneDeliveries } from "./fleet/prune-deliveries.js";
import { scheduleTask } from "./fleet/scheduled-task.js";
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

export interface Running {
  readonly app: FastifyInstance;
  readonly ledger: Ledger;
  readonly logger: Logger;
  /** Stops the scheduled tasks and taking requests, then closes the ledger. */
  stop(): Promise<void>;
}

/** The composition root: builds every part from the configuration and starts serving. */
export async function serve(config: Config, logger?: Logger): Promise<Running> {
  const { settings, fleet } = config;
  const log = logger ?? createLogger({ level: settings.logLevel });
  const ledger = await openConfiguredLedger(settings);
  try {
    await ledger.migrate();
  } catch (error) {
    await ledger.close();
    throw error;
  }
  const app = buildApp({
    ledger,
    logger: log,
    webhookSecrets: settings.webhookSecrets,
    webhookBodyLimitBytes: settings.webhookBodyLimitBytes,
    pools: fleet.pools,
    bindingLabelPrefix: fleet.bindingLabelPrefix,
    now: () => new Date(),
  });
  const prune = () => pruneDeliveries(ledger, fleet.retention.deliveries, new Date());
  await prune();
  const pruning = scheduleTask("prune-deliveries", "7 * * * *", prune, log);
  await app.listen({ host: settings.host, port: settings.port });
  log.info(
    {
      address: app.server.address(),
      fleet: fleet.fleet,
      pools: fleet.pools.length,
      database: settings.databaseUrl ? "postgresql" : "embedded",
    },
    "mayfly serving",
  );
  return {
    app,
    ledger,
    logger: log,
    async stop() {
      await pruning.stop();
      await app.close();
      await ledger.close();
    },
  };
}
