import type { Cloud } from "../cloud/cloud.js";
import type { FleetConfig } from "../config/fleet-schema.js";
import type { GitHub } from "../github/github.js";
import type { Ledger } from "../ledger/ledger.js";
import type { Logger } from "../log/logger.js";
import type { FleetMetrics } from "../metrics/fleet-metrics.js";

/** What the fleet's loops work with; main.ts builds it, tests hand in simulators. */
export interface FleetDeps {
  readonly ledger: Ledger;
  readonly github: GitHub;
  readonly cloud: Cloud;
  readonly fleet: FleetConfig;
  readonly logger: Logger;
  readonly now: () => Date;
  /** In [0, 1): jitter for retries and the first zone to try. */
  readonly random: () => number;
  /** Where launches, repairs and budgets are counted; absent: nowhere. */
  readonly metrics?: FleetMetrics;
}
